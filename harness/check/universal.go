package check

import "github.com/faultline/faultline/harness/scenario"

// Scoped is implemented by a universal checker whose rule speaks of some
// scenarios only (U1 of sessions: a router has none). Outside its scope it
// is left out of the scenario's results, rather than give a verdict on
// nothing: UNKNOWN would fail every such run, OK would pass a rule unjudged.
type Scoped interface {
	Applies(sc *scenario.Scenario) bool
}

// UniversalsFor lists the Specs of the universal checkers judged in sc,
// sorted by name: what the runner appends to its expect list.
func UniversalsFor(sc *scenario.Scenario) []Spec {
	var out []Spec
	for _, n := range Names() {
		s, _ := Lookup(n)
		if !s.Universal {
			continue
		}
		if c, ok := s.New().(Scoped); ok && !c.Applies(sc) {
			continue
		}
		out = append(out, s)
	}
	return out
}

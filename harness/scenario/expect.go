package scenario

import (
	"slices"

	"gopkg.in/yaml.v3"
)

func (p *parser) expects(sc *Scenario, kv pair) {
	seq := deref(kv.val)
	if seq.Kind != yaml.SequenceNode {
		p.errorf(kv.val, "expected a list for expect, got %s", describe(seq))
		return
	}
	if len(seq.Content) == 0 {
		p.errorf(kv.val, "expect is empty: a scenario needs at least one check")
	}
	for _, item := range seq.Content {
		n := deref(item)
		if n.Kind != yaml.MappingNode {
			p.errorf(item, "an expect entry is a mapping like {check: name, requirement: R1, ...}, got %s", describe(n))
			continue
		}
		sc.Expect = append(sc.Expect, p.expect(sc, n))
	}
}

// expect decodes one check: check and requirement are ours, every other key
// is the checker's parameter.
func (p *parser) expect(sc *Scenario, n *yaml.Node) Expect {
	e := Expect{Pos: p.pos(n)}
	var params []pair
	var check, req *pair
	for _, kv := range p.pairs(n) {
		switch kv.name {
		case "check":
			check = &kv
		case "requirement":
			req = &kv
		default:
			params = append(params, kv)
		}
	}
	if req == nil {
		p.errorf(n, "expect entry needs requirement")
	} else if p.decoded(req.val, &e.Requirement, "requirement") {
		switch {
		case !slices.Contains(p.reg.Requirements, e.Requirement):
			p.errorf(req.val, "unknown requirement %q%s", e.Requirement, suggest(e.Requirement, "requirements", p.reg.Requirements))
		case p.coversOK && !slices.Contains(sc.Covers, e.Requirement):
			p.errorf(req.val, "requirement %s is not in covers [%s]", e.Requirement, list(sc.Covers))
		}
	}
	if check == nil {
		p.errorf(n, "expect entry needs check")
		return e
	}
	if !p.decoded(check.val, &e.Check, "check") {
		return e
	}
	target, ok := p.reg.Check(e.Check)
	if !ok {
		p.errorf(check.val, "unknown check %q%s", e.Check, suggest(e.Check, "checks", p.reg.Checks))
		return e
	}
	e.Params = target
	if p.reg.Judges != nil && e.Requirement != "" && req != nil {
		if js := p.reg.Judges(e.Check); !slices.Contains(js, e.Requirement) {
			p.errorf(req.val, "check %s judges %s, not %s", e.Check, list(js), e.Requirement)
		}
	}
	done := p.mark()
	p.config(params, target, n, "expect", "check "+e.Check, []string{"check", "requirement"})
	// A check that attributes server accepts to one client cannot judge a
	// scenario with more: bad input, not a FAILED run.
	if oc, ok := target.(interface{ NeedsOneClient() string }); ok && done() && sc.Clients > 1 {
		if why := oc.NeedsOneClient(); why != "" {
			p.errorf(check.val, "check %s needs clients: 1 (the scenario has %d): %s", e.Check, sc.Clients, why)
		}
	}
	// A check that can judge only scenarios of some shape says what it
	// needs once the whole file is read (preconditions.go).
	if sv, ok := target.(ScenarioValidator); ok && done() {
		p.pending = append(p.pending, precondition{sv: sv, check: e.Check, requirement: e.Requirement, at: check.val})
	}
	return e
}

package check

import (
	"fmt"
	"strings"
	"time"
)

func init() {
	Register(Spec{Name: "no_repeat", Judges: []string{"C1", "F2", "F3"}, New: func() Checker { return &NoRepeat{} }})
}

// NoRepeat judges that no server is tried twice in a cascade or a failover
// before every other server of the list was tried (F2, C1; with load
// balancing, F3's shuffle must not pick a server already tried). In a
// failover the server just lost counts as tried. A server whose link was
// down when it would have been tried counts as tried too: refused, its
// attempt is invisible to the servers (client-reported). Reconnection
// attempts (RECOVERING_RECONNECT) are not walks: they retry one server by
// design.
type NoRepeat struct {
	// MinAttempts is how many attempts one walk must show for the check to
	// mean anything (default 2).
	MinAttempts *int `yaml:"min_attempts"`
}

// DefaultNoRepeatMinAttempts is no_repeat's min_attempts when not given.
const DefaultNoRepeatMinAttempts = 2

// Validate checks the parameters.
func (c *NoRepeat) Validate() error {
	if n := or(c.MinAttempts, DefaultNoRepeatMinAttempts); n < 1 {
		return fmt.Errorf("min_attempts must be at least 1 (got %d): a walk is judged on its attempts", n)
	}
	return nil
}

// Check implements Checker.
func (c *NoRepeat) Check(in Input) Result { return onView(in, c, c.check) }

func (c *NoRepeat) check(v *view) Result {
	minA := or(c.MinAttempts, DefaultNoRepeatMinAttempts)
	list := v.sc.Client.Servers
	var j judge
	judged, most, skipped := 0, 0, 0
	last := time.Duration(0)
	for _, w := range v.walks().all() {
		if !w.Attributed {
			skipped++
			continue
		}
		if len(w.Attempts) == 0 {
			continue
		}
		judged++
		most = max(most, len(w.Attempts))
		last = max(last, w.Until(v))
		tried := map[string]bool{}
		if w.Kind == walkFailover && w.Lost != "" {
			tried[w.Lost] = true
		}
		for k, a := range w.Attempts {
			srv, t := a.Accept.Server, a.Accept.T
			if tried[srv] {
				var untried []string
				for _, s := range list {
					if !tried[s] && !v.downAt(s, t) && !v.downAt(s, w.From) {
						untried = append(untried, s)
					}
				}
				if len(untried) > 0 {
					what := "tried again"
					if w.Kind == walkFailover && srv == w.Lost {
						what = "the lost server tried again"
					}
					j.fail(t, "%s attempt %d on %s at %s (%s): %s before %s was tried (attempts so far: %s)",
						w, k, srv, dur(t), a.evidence(), what, strings.Join(untried, ", "), strings.Join(w.servers()[:k], " → "))
				}
				// every other server was tried: a new pass may begin
				tried = map[string]bool{}
			}
			tried[srv] = true
		}
		if judged <= maxSlotMeasurements {
			j.count(fmt.Sprintf("%s: attempts", w), len(w.Attempts), fmt.Sprintf("server accepts in the walk: %s", strings.Join(w.servers(), " → ")))
		}
	}
	if skipped > 0 {
		j.note("%d walk(s) overlapped other clients' attempts and were not judged", skipped)
	}
	if judged == 0 || most < minA {
		return j.inconclusive(v.end, "nothing to judge: no cascade or failover with at least min_attempts %d attributable attempts (most seen: %d)%s", minA, most, failText(j))
	}
	return j.result(last, "%d walk(s): no server tried twice before every other one was", judged)
}

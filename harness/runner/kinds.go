package runner

import (
	"fmt"
	"slices"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/scenario"
)

// SwapKinds runs servers of one kind as another (FROM → TO), so that one
// scenario folder judges a client against a fake server and against the real
// one behind the same links (a difference is a bug in the fake). A step that
// asks the new kind for an action it lacks (a fake server's lever a real one
// has not) is bad input, named by its position; the scenarios are changed in
// place.
func SwapKinds(scs []*scenario.Scenario, swaps map[string]string) error {
	for _, sc := range scs {
		for i, s := range sc.Servers {
			if to, ok := swaps[s.Kind]; ok {
				sc.Servers[i].Kind = to
			}
		}
		for _, st := range sc.Steps {
			if st.Action == "" {
				continue
			}
			s, _ := sc.Server(st.Server)
			if !slices.Contains(fakeserver.ActionNames(s.Kind), st.Action) {
				return fmt.Errorf("%s: server %s of kind %s has no action %s (label the scenario and leave it out with --label)",
					st.Pos, st.Server, s.Kind, st.Action)
			}
		}
	}
	return nil
}

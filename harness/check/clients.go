package check

import (
	"fmt"
	"sort"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Client states: what each client reported (client evidence), indexed per
// client in newView (view.states). Questions about a client's own word.

// clientView answers questions from the clients' own word alone, so that a
// checker can tell what a client claimed from what the servers recorded.
type clientView struct {
	*view // the index
}

func newClientView(v *view) *clientView { return &clientView{view: v} }

// stateAt is the index of the client's last state event at or before t (-1: none).
func (v *clientView) stateAt(c int, t time.Duration) int {
	st := v.states[c]
	i := sort.Search(len(st), func(i int) bool { return st[i].T > t })
	return i - 1
}

// lastState is the client's last state event.
func (v *clientView) lastState(c int) (history.Event, bool) {
	st := v.states[c]
	if len(st) == 0 {
		return history.Event{}, false
	}
	return st[len(st)-1], true
}

// firstStateAfter is the client's first state event with T >= t into one of
// the given states (any state when none is given).
func (v *clientView) firstStateAfter(c int, t time.Duration, to ...string) (history.Event, bool) {
	for _, e := range v.states[c] {
		if e.T < t {
			continue
		}
		if len(to) == 0 {
			return e, true
		}
		for _, s := range to {
			if e.To == s {
				return e, true
			}
		}
	}
	return history.Event{}, false
}

// closedLostMessages is the client's close with reason lost_messages, if any.
func (v *clientView) closedLostMessages(c int) (history.Event, bool) {
	for _, e := range v.states[c] {
		if e.To == driver.ClosedFailed && e.Reason == driver.ReasonLostMessages {
			return e, true
		}
	}
	return history.Event{}, false
}

// activeAfter is the client's first CONNECTED_ACTIVE state with T > t.
func (v *clientView) activeAfter(cl int, t time.Duration) (history.Event, bool) {
	for _, e := range v.states[cl] {
		if e.T > t && e.To == driver.ConnectedActive {
			return e, true
		}
	}
	return history.Event{}, false
}

// lastStateText describes the client's last state, for details.
func (v *clientView) lastStateText(cl int) string {
	e, ok := v.lastState(cl)
	if !ok {
		return "it reported no state"
	}
	s := fmt.Sprintf("last state %s at %s", e.To, dur(e.T))
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

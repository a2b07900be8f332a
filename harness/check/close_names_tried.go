package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

func init() {
	Register(Spec{Name: "close_names_tried", Judges: []string{"C2"}, New: func() Checker { return &CloseNamesTried{} }})
}

// CloseNamesTried judges C2: when every server of a cascade or a failover
// failed, the session closes CLOSED_FAILED with an error that names each
// server tried (the state event's Attrs["tried"], server names mapped by the
// runner from the URLs the engine reported), and stops. The names are held
// against the servers' accepts: every server that saw an attempt must be
// named, and a named server no server saw must have had its link down
// (refused: client-reported).
type CloseNamesTried struct{}

// Check implements Checker.
func (c *CloseNamesTried) Check(in Input) Result { return onView(in, c, c.check) }

func (c *CloseNamesTried) check(v *view) Result {
	var j judge
	judged := 0
	last := time.Duration(0)
	for _, w := range v.walks().all() {
		if w.End == nil || w.End.To != driver.ClosedFailed {
			continue
		}
		judged++
		e := *w.End
		last = max(last, e.T)
		list := v.sc.Client.Servers
		if w.Kind == walkCascade {
			list = v.walks().cascadeList()
		}
		var named []string
		if s := e.Attr("tried"); s != "" {
			named = strings.Split(s, ",")
		}
		j.measure(fmt.Sprintf("%s: servers named", w), float64(len(named)), "count",
			fmt.Sprintf("client CLOSED_FAILED%s tried=[%s] (client-reported)", reasonText(e), strings.Join(named, ",")), fmt.Sprintf("%d (%s)", len(list), strings.Join(list, ",")))
		if len(named) == 0 {
			j.fail(e.T, "%s closed CLOSED_FAILED%s at %s naming no server tried", w, reasonText(e), dur(e.T))
			continue
		}
		for _, s := range list {
			if !slices.Contains(named, s) {
				j.fail(e.T, "%s closed at %s naming [%s], not %s: every server of the list (%s) must have been tried and named", w, dur(e.T), strings.Join(named, ","), s, strings.Join(list, ","))
			}
		}
		if !w.Attributed {
			j.note("%s: attempts not attributable (%s): names checked against the list only", w, w.Clash)
			continue
		}
		seen := map[string]bool{}
		for _, a := range w.Attempts {
			seen[a.Accept.Server] = true
		}
		j.count(fmt.Sprintf("%s: servers seen tried", w), len(seen), "distinct servers with a server accept in the walk")
		for _, s := range w.servers() {
			if seen[s] && !slices.Contains(named, s) {
				j.fail(e.T, "%s: %s saw an attempt (server accept) but the close does not name it: [%s]", w, s, strings.Join(named, ","))
				seen[s] = false
			}
		}
		var down []string
		for _, s := range named {
			switch {
			case seen[s]:
			case v.downAt(s, w.From) || v.downAt(s, e.T):
				down = append(down, s)
			default:
				j.fail(e.T, "%s: the close names %s, which no server saw tried and whose link was not down", w, s)
			}
		}
		if len(down) > 0 {
			j.note("%s named with the link down: refused before any server, client-reported", strings.Join(down, ", "))
		}
		// And stops: no attempt after the close.
		after := v.outages().acceptsAfter(e.T + v.slack)
		if other := v.walks().busyAfter(w.Client, e.T); other != "" {
			j.note("attempts after %s's close not judged: %s", w, other)
		} else {
			j.count(fmt.Sprintf("%s: attempts after the close", w), len(after), "server accept on client.servers after the client's CLOSED_FAILED")
			if len(after) > 0 {
				j.fail(after[0].T, "%s went on after its close at %s: %d server accept(s) (%s)", w, dur(e.T), len(after), describeAccepts(after))
			}
		}
	}
	if judged == 0 {
		return Inconclusive(v.end, nil, "nothing to judge: no cascade or failover ended CLOSED_FAILED")
	}
	return j.result(last, "%d close(s) after every server failed named each server tried, and nothing followed", judged)
}

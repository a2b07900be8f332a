package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "close_names_tried", Judges: []string{"C2"}, New: func() Checker { return &CloseNamesTried{} }})
}

// Values of termCloseError (contract.go), what a library's close after every
// server failed tells: an error naming each server tried (C2 as asked), the
// last server's error only, or an error naming none.
const (
	closeNamesTried = "names_tried"
	closeLastError  = "last_error"
	closeGeneric    = "generic"
)

// CloseNamesTried judges C2: when every server of a cascade or a failover
// failed, the session closes CLOSED_FAILED with an error that names each
// server tried (the state event's Attrs["tried"], server names mapped by the
// runner from the URLs the engine reported), and stops. The names are held
// against the servers' accepts: every server that saw an attempt must be
// named, and a named server no server saw must have had its link down
// (refused: client-reported). A real library whose effective contract says
// its close does not name the servers (close_error: last_error or generic)
// and whose close names none is not asked to: INFORMATIONAL, with the error
// it gave and the servers its servers and links saw tried; one that says
// names_tried, or declares nothing (faultline's own engines), is judged as
// asked. Either way the client must stop after the close.
type CloseNamesTried struct{}

// Check implements Checker.
func (c *CloseNamesTried) Check(in Input) Result { return onView(in, c, c.check) }

func (c *CloseNamesTried) check(v *view) Result {
	var j judge
	judged, informed := 0, 0
	var infos []string
	last := time.Duration(0)
	for _, w := range v.walks().all() {
		if w.End == nil || w.End.To != driver.ClosedFailed {
			continue
		}
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
		ct, text := walkContract(v, w), closeText(v, w)
		says := ct.Value(termCloseError)
		if len(named) == 0 && (says == closeLastError || says == closeGeneric) {
			informed++
			infos = append(infos, c.unnamed(&j, v, w, ct, text, list))
			c.stops(&j, v, w)
			continue
		}
		judged++
		if says != "" {
			j.note("%s judged by its contract's %s", w, ct.Says(termCloseError))
		}
		if len(named) == 0 {
			j.fail(e.T, "%s closed CLOSED_FAILED%s at %s naming no server tried%s", w, reasonText(e), dur(e.T), errText(text))
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
		c.stops(&j, v, w)
	}
	if judged+informed == 0 {
		return Inconclusive(v.end, nil, "nothing to judge: no cascade or failover ended CLOSED_FAILED")
	}
	if j.failed() || len(j.unknowns) > 0 {
		return j.result(last, "")
	}
	if judged == 0 {
		return j.informational(last, "the library's close does not name the servers it tried, by its own contract, so C2's naming is not asked of it: "+list(infos)+notesOf(&j))
	}
	detail := fmt.Sprintf("%d close(s) after every server failed named each server tried, and nothing followed", judged)
	if informed > 0 {
		detail += fmt.Sprintf("; %d by their contract name none (informational): %s", informed, list(infos))
	}
	return j.result(last, "%s", detail)
}

// stops judges that nothing followed walk w's close: no server accept after
// it (unless another client was looking for a server then).
func (c *CloseNamesTried) stops(j *judge, v *view, w srvWalk) {
	e := *w.End
	after := v.outages().acceptsAfter(e.T + v.slack)
	if other := v.walks().busyAfter(w.Client, e.T); other != "" {
		j.note("attempts after %s's close not judged: %s", w, other)
		return
	}
	j.count(fmt.Sprintf("%s: attempts after the close", w), len(after), "server accept on client.servers after the client's CLOSED_FAILED")
	if len(after) > 0 {
		j.fail(after[0].T, "%s went on after its close at %s: %d server accept(s) (%s)", w, dur(e.T), len(after), describeAccepts(after))
	}
}

// unnamed describes a close that names no server, as its contract says:
// the library's error and the servers seen tried, from the servers' accepts
// and the links' evidence (a link down refuses the dial before any server;
// a link's failed dial of a killed server).
func (c *CloseNamesTried) unnamed(j *judge, v *view, w srvWalk, ct *Contract, text string, list []string) string {
	e := *w.End
	out := fmt.Sprintf("%s closed CLOSED_FAILED%s at %s%s, naming no server, as its contract says (%s)", w, reasonText(e), dur(e.T), errText(text), ct.Says(termCloseError))
	if !w.Attributed {
		return out + fmt.Sprintf("; the servers tried cannot be told (%s)", w.Clash)
	}
	tried := map[string]bool{}
	var seen []string
	for _, a := range w.Attempts {
		tried[a.Accept.Server] = true
		seen = append(seen, fmt.Sprintf("%s (server accept %s at %s)", a.Accept.Server, a.conn(), dur(a.Accept.T)))
	}
	for _, l := range v.h {
		if l.Kind == history.KindLinkDialFail && l.T >= w.From && l.T <= e.T+v.slack && slices.Contains(list, l.Link) {
			tried[l.Link] = true
			seen = append(seen, fmt.Sprintf("%s (link dial failed at %s: server unreachable)", l.Link, dur(l.T)))
		}
	}
	var down, unseen []string
	for _, s := range list {
		switch {
		case tried[s]:
		case v.downAt(s, w.From) || v.downAt(s, e.T):
			down = append(down, s)
		default:
			unseen = append(unseen, s)
		}
	}
	j.count(fmt.Sprintf("%s: servers seen tried", w), len(tried), "distinct servers with a server accept or a link's failed dial in the walk")
	if len(seen) > 0 {
		out += "; seen tried: " + strings.Join(seen, ", ")
	} else {
		out += "; no server saw an attempt"
	}
	if len(down) > 0 {
		out += "; link down (a refused dial no server sees): " + strings.Join(down, ", ")
	}
	if len(unseen) > 0 {
		out += "; not seen tried: " + strings.Join(unseen, ", ")
	}
	return out
}

// walkContract is the effective contract walk w is judged by: a cascade's
// is its connect's (the reply answering it: a failed connect's reply
// carries the contract too), a failover's that of the connect before it.
func walkContract(v *view, w srvWalk) *Contract {
	if r, ok := connectReply(v, w); ok {
		return v.client().contract(w.Client, r.T)
	}
	return v.client().contract(w.Client, w.Start.T)
}

// connectReply is the reply to a cascade's connect op.
func connectReply(v *view, w srvWalk) (history.Event, bool) {
	if w.Kind != walkCascade {
		return history.Event{}, false
	}
	for _, e := range v.h {
		if e.T >= w.Start.T && e.Kind == history.KindReply && e.Client == w.Client && e.Op == driver.OpConnect {
			return e, true
		}
	}
	return history.Event{}, false
}

// closeText is the library's error text for a cascade that ended closed:
// its failed connect's reply ("" when there is none).
func closeText(v *view, w srvWalk) string {
	if r, ok := connectReply(v, w); ok && !r.OK {
		return r.Reason
	}
	return ""
}

// errText renders a library's error text for a detail.
func errText(text string) string {
	if text == "" {
		return ""
	}
	return fmt.Sprintf(" with the error %q", text)
}

package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// DefaultIdleGrace is how long past its first attempt's due time a window
// must last for "no attempt" to count against a library that reconnects by
// itself.
const DefaultIdleGrace = time.Second

func init() {
	Register(Spec{Name: "idle_after_loss", Judges: []string{"R2"}, New: func() Checker { return &IdleAfterLoss{} }})
}

// IdleAfterLoss reports R2's first question, whether there is a
// reconnection schedule at all: after a loss, with nothing asking the
// client to connect, does it attempt to reconnect by itself? Not every
// library does: grpc-go's pick_first goes IDLE when its READY connection is
// lost and makes no attempt until an RPC is started or Connect() is called
// (balancer/pickfirst/pickfirst.go: the channel goes IDLE with an idle
// picker; clientconn.go addrConn's onClose: "Always go idle and wait for the
// LB policy to initiate a new connection attempt").
//
// A loss is a client's move out of CONNECTED_ACTIVE into
// RECOVERING_RECONNECT or CONNECTING (client evidence), or a loss fault that
// hit it while CONNECTED_ACTIVE that it never reported (link evidence, from
// the fault). Its window runs from the loss (less the run's slack: an
// at-once attempt may be stamped before the client's report) to the
// client's next op (a send, a request, a connect: anything that may ask the
// library to connect), the end of the history, or window after the loss,
// whichever comes first. The attempts are the link accepts and server
// accepts on the client's servers in it. A loss the client never reported
// is only reported on, never FAILED: not noticing a loss is R1's
// (loss_detected), not a missing schedule.
//
// The result is INFORMATIONAL, with the attempts seen (or "no attempt in
// Xs after the loss at T"), unless the client's effective contract has the
// term idle_reconnect: `auto` (it reconnects by itself) is FAILED by a
// window with no attempt that lasted grace beyond its first attempt's due
// time (the back-off's first wait, at once with first_attempt: immediate),
// OK with attempts; `on_demand` (it waits to be asked) is OK with no
// attempt, INFORMATIONAL with attempts (something the history does not show
// asked: the driver's additions are listed). A window under `down` on every
// server of the client cannot show an attempt (the link refuses it before
// any record): such a loss is left out.
type IdleAfterLoss struct {
	// Window bounds how long after a loss to look (default: up to the
	// client's next op or the end of the history).
	Window *time.Duration `yaml:"window"`
	// Grace is how long past the first attempt's due time a window must
	// last before no attempt in it counts against idle_reconnect: auto
	// (default 1s).
	Grace *time.Duration `yaml:"grace"`
}

// Validate checks the parameters.
func (c *IdleAfterLoss) Validate() error {
	if c.Window != nil && *c.Window <= 0 {
		return fmt.Errorf("window must be positive (got %s)", *c.Window)
	}
	return nonNegative("grace", or(c.Grace, 0))
}

// NeedsOneClient implements OneClient: attempts are server-side accepts
// (and link accepts), which cannot be attributed to one of several clients.
func (c *IdleAfterLoss) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *IdleAfterLoss) Check(in Input) Result { return onView(in, c, c.check) }

// idleLoss is one loss and what followed it in its window.
type idleLoss struct {
	Client int
	At     time.Duration // the loss: the client's report, or the fault
	From   time.Duration // the window's start: At less the run's slack, never before the CONNECTED_ACTIVE

	What     string
	Server   string
	To       time.Duration // the window's end
	ToWhat   string
	Attempts []idleAttempt
	Due      time.Duration // the first attempt's due time after the loss
	Reported bool          // the client reported the loss (else only a fault hit it)
}

// idleAttempt is one attempt seen in a window: its link's accept, else its
// server's.
type idleAttempt struct {
	T    time.Duration
	What string
}

func (l idleLoss) evidence() string {
	span := l.To - l.At
	if len(l.Attempts) == 0 {
		return fmt.Sprintf("no attempt in %s after %s at %s (%s)", secs(span), l.What, secs(l.At), l.ToWhat)
	}
	var parts []string
	for i, a := range l.Attempts {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("… %d more", len(l.Attempts)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s at %s (%+.3fs from the loss)", a.What, secs(a.T), (a.T-l.At).Seconds()))
	}
	return fmt.Sprintf("%d attempt(s) in %s after %s at %s (%s): %s", len(l.Attempts), secs(span), l.What, secs(l.At), l.ToWhat, strings.Join(parts, ", "))
}

// losses lists the losses of client c with their windows.
func (c *IdleAfterLoss) losses(v *view, cl int) []idleLoss {
	var out []idleLoss
	st := v.states[cl]
	for i, e := range st {
		if i == 0 || st[i-1].To != driver.ConnectedActive || (e.To != driver.RecoveringReconnect && e.To != driver.Connecting) {
			continue
		}
		srv := st[i-1].Server
		if srv == "" {
			srv = v.firstServer()
		}
		out = append(out, idleLoss{Client: cl, At: e.T, From: max(e.T-v.slack, st[i-1].T+1), Server: srv, Reported: true,
			What: fmt.Sprintf("the loss of its connection to %s (client %d CONNECTED_ACTIVE → %s)", srv, cl, e.To)})
	}
	for _, h := range v.outages().lossHits() {
		if h.Client != cl || h.Leave != nil {
			continue
		}
		out = append(out, idleLoss{Client: cl, At: h.Fault.began(), From: h.Fault.began(), Server: h.Server(v),
			What: fmt.Sprintf("the %s that hit client %d (it reported no loss)", h.Fault, cl)})
	}
	return out
}

// window ends loss l: the client's next op, the end of the history, or
// window after it.
func (c *IdleAfterLoss) window(v *view, l *idleLoss) {
	l.To, l.ToWhat = v.end, "to the end of the history, nothing asking it to connect"
	if c.Window != nil && l.At+*c.Window < l.To {
		l.To, l.ToWhat = l.At+*c.Window, fmt.Sprintf("the window %s, nothing asking it to connect", secs(*c.Window))
	}
	for _, e := range v.h {
		if e.T > l.At && e.T < l.To && e.Source == history.SrcHarness && e.Kind == history.KindOp && e.Client == l.Client && e.Op != driver.OpProbe {
			l.To, l.ToWhat = e.T, fmt.Sprintf("until its next op, %s at %s", e.Op, secs(e.T))
			break
		}
	}
}

// attemptsIn are the attempts on the client's servers in [from, to]: each
// link accept, and each server accept the link did not record.
func (c *IdleAfterLoss) attemptsIn(v *view, from, to time.Duration) []idleAttempt {
	var out []idleAttempt
	for _, e := range v.h {
		if e.T >= from && e.T <= to && e.Source == history.SrcLink && e.Kind == history.KindLinkAccept && v.cServers[e.Link] {
			out = append(out, idleAttempt{T: e.T, What: "link accept on " + e.Link})
		}
	}
	for _, a := range v.outages().attempts(from, to) {
		if a.Link == nil {
			out = append(out, idleAttempt{T: a.Accept.T, What: "server accept " + a.conn()})
		}
	}
	return out
}

// dueAfterLoss is when the client's first attempt after a loss is due: at
// once with first_attempt: immediate, else after the back-off's first wait
// (its upper end), the contract's or the scenario's strategy's.
func dueAfterLoss(v *view, ct *Contract) (time.Duration, string) {
	if ct.Value(termFirstAttempt) == "immediate" {
		return 0, ct.Says(termFirstAttempt)
	}
	if sleep, _, from, ok := sleepsOf(ct); ok {
		return sleep(0), from + ": the first wait's upper end"
	}
	st := v.sc.Client.Reconnect.Strategy
	return st.Delay(0), "the scenario's strategy: Delay(0)"
}

// blind reports whether every server of the client had its link down for
// the whole window: no attempt could have left a record.
func (c *IdleAfterLoss) blind(v *view, l idleLoss) bool {
	for s := range v.cServers {
		if !v.downAt(s, l.At) || !v.downAt(s, l.To) {
			return false
		}
	}
	return len(v.cServers) > 0
}

func (c *IdleAfterLoss) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	grace := or(c.Grace, DefaultIdleGrace)
	var j judge
	var seen, none, short []string
	losses, blind := 0, 0
	last := time.Duration(0)
	var ct *Contract
	for _, cl := range v.clients {
		for _, l := range c.losses(v, cl) {
			c.window(v, &l)
			if c.blind(v, l) {
				blind++
				continue
			}
			losses++
			ct = v.client().contract(cl, l.At)
			due, dueFrom := dueAfterLoss(v, ct)
			l.Due = due
			l.Attempts = c.attemptsIn(v, l.From, l.To)
			last = max(last, l.To)
			j.measureMs(fmt.Sprintf("client %d loss at %s: window", cl, secs(l.At)), l.To-l.At, fmt.Sprintf("%s − %s", l.ToWhat, l.What), fmt.Sprintf("first attempt due %s after the loss (%s)", dur(due), dueFrom))
			j.count(fmt.Sprintf("client %d loss at %s: attempts", cl, secs(l.At)), len(l.Attempts), "link accepts (and server accepts the link did not record) on the client's servers in the window")
			switch {
			case len(l.Attempts) > 0:
				seen = append(seen, l.evidence())
			case l.To-l.At < due+grace:
				short = append(short, l.evidence()+fmt.Sprintf(", shorter than the first attempt's due time %s + grace %s", secs(due), secs(grace)))
			default:
				none = append(none, l.evidence())
				if ct.Value(termIdleReconnect) == "auto" && l.Reported {
					j.fail(l.To, "no reconnect by itself: %s; the client's effective contract says it reconnects by itself (%s), its first attempt due %s after the loss", l.evidence(), ct.Says(termIdleReconnect), secs(due))
				}
			}
		}
	}
	if blind > 0 {
		j.note("%d loss(es) left out: every server's link was down for the whole window, so no attempt could leave a record", blind)
	}
	if losses == 0 {
		return j.inconclusive(v.end, "nothing to judge: no loss (no client moved out of CONNECTED_ACTIVE into RECOVERING_RECONNECT or CONNECTING, nor was hit by a loss fault while CONNECTED_ACTIVE) with a window the evidence can see")
	}
	if j.failed() {
		return j.result(last, "")
	}
	all := strings.Join(append(append(append([]string(nil), seen...), none...), short...), "; ")
	switch ct.Value(termIdleReconnect) {
	case "auto":
		switch {
		case len(seen) > 0:
			return j.result(last, "it reconnected by itself, as its contract says (%s): %s", ct.Says(termIdleReconnect), all)
		case len(none) > 0: // unreported losses only: a reported one FAILED above
			return j.informational(last, fmt.Sprintf("no attempt after a loss the client never reported, which is not judged (noticing a loss is R1's): %s (%s)", all, ct.Says(termIdleReconnect)))
		}
		return j.inconclusive(last, "every window was too short to tell whether it reconnects by itself (%s): %s", ct.Says(termIdleReconnect), all)
	case "on_demand":
		if len(seen) == 0 {
			return j.result(last, "it waited to be asked, as its contract says (%s): %s", ct.Says(termIdleReconnect), all)
		}
		return j.informational(last, fmt.Sprintf("attempts with nothing in the history asking for them, although its contract says it reconnects only when asked (%s): %s%s", ct.Says(termIdleReconnect), all, driverAdds(ct)))
	}
	verb := "it reconnected by itself"
	switch {
	case len(seen) == 0 && len(none) > 0:
		verb = "it did not reconnect by itself"
	case len(seen) == 0:
		verb = "too short a window to tell whether it reconnects by itself"
	case len(none) > 0:
		verb = "it reconnected by itself after some losses, not after others"
	}
	return j.informational(last, fmt.Sprintf("%s; its contract does not say whether it should (%s): %s%s", verb, ct.Says(termIdleReconnect), all, driverAdds(ct)))
}

// driverAdds lists what the driver adds through the library's public API,
// for a detail ("" when nothing).
func driverAdds(ct *Contract) string {
	if ct == nil || len(ct.DriverAdds) == 0 {
		return ""
	}
	var parts []string
	for _, a := range ct.DriverAdds {
		parts = append(parts, a.What)
	}
	return " (the driver adds: " + strings.Join(parts, "; ") + ")"
}

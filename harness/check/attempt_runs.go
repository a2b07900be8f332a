package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// Attempt runs: one client's back-to-back attempts on one server, counted
// from the first, the unit gRPC's back-off works in (backoff_interop_band,
// connect_timeout). gRPC keeps a back-off index per subchannel, one per
// address, reset when a connection reaches READY (grpc-go clientconn.go
// addrConn.resetTransportAndUnlock: backoffIdx, reset at the server's
// SETTINGS): so each server's attempts in one outage, or in the first
// connect's walk, are a run of their own, attempt k of a run at back-off
// index k. The interop test's client dials one server, which is one run.

// attemptRun is one client's attempts on one server in one outage or first
// connect, in the client's order (link accepts where recorded).
type attemptRun struct {
	Client   int
	Server   string
	What     string        // "client 0 outage 1 on s1", "client 0 first connect on s1"
	Start    time.Duration // the outage's RECOVERING_RECONNECT, or the connect op
	End      time.Duration // when the outage or walk ended (the history's end if it did not)
	Closed   bool          // it ended in a CLOSED_* state, at End
	Ct       *Contract     // the client's effective contract for it (nil: none)
	Attempts []attempt
	// Later[k] reports whether the client made any attempt, on any server,
	// after Attempts[k] in the same outage or walk.
	Later  []bool
	Outage *outage // nil: the first connect
}

// attemptRuns lists the runs of every client's outages and, when withFirst,
// of its first connect (when the walk's attempts are attributable to it).
// Each outage's or walk's attempts are split by server.
func (v *view) attemptRuns(withFirst bool) []attemptRun {
	var out []attemptRun
	split := func(base attemptRun, atts []attempt) {
		as := append([]attempt(nil), atts...)
		byLinkOrder(as)
		var order []string
		by := map[string][]attempt{}
		for _, a := range as {
			s := a.Accept.Server
			if _, ok := by[s]; !ok {
				order = append(order, s)
			}
			by[s] = append(by[s], a)
		}
		lastAt := time.Duration(-1)
		if len(as) > 0 {
			lastAt = as[len(as)-1].at()
		}
		for _, s := range order {
			r := base
			r.Server, r.Attempts = s, by[s]
			r.What = fmt.Sprintf("%s on %s", base.What, s)
			for _, a := range r.Attempts {
				r.Later = append(r.Later, a.at() < lastAt)
			}
			out = append(out, r)
		}
	}
	if withFirst {
		for _, w := range v.walks().of(walkCascade) {
			if !w.Attributed {
				continue
			}
			r := attemptRun{Client: w.Client, What: fmt.Sprintf("client %d first connect", w.Client), Start: w.Start.T, End: w.Until(v),
				Closed: w.End != nil && driver.IsClosed(w.End.To), Ct: v.client().contract(w.Client, w.Until(v))}
			split(r, w.Attempts)
		}
	}
	for _, c := range v.clients {
		for _, o := range v.outages().of(c) {
			o := o
			r := attemptRun{Client: c, What: fmt.Sprintf("client %d outage %d", c, o.N), Start: o.Start.T, End: o.Until(v),
				Closed: o.Closed(), Ct: v.client().contract(c, o.Start.T), Outage: &o}
			split(r, o.Attempts(v))
		}
	}
	return out
}

// runLaw is the back-off a run's attempts follow: the wait after attempt k
// of a run (0-based) is nominally Nominal(k), drawn from
// [(1−Jitter)·Upper(k), Upper(k)] (Exact(k): exactly Nominal(k)). With
// first_attempt: immediate (gRPC) attempt 0 is made at once and sleep k
// follows attempt k; otherwise (faultline's strategy, after_delay) sleep 0
// precedes attempt 0 and sleep k+1 follows attempt k.
type runLaw struct {
	Nominal, Upper func(k int) time.Duration
	Exact          func(k int) bool
	Jitter         float64
	Law            sleepLaw // Kind, J as declared
	Declared       bool     // the contract (or the strategy) declares a jitter
	From           string
	Contract       bool
}

// lawOfRun is the back-off run r follows: its contract's params, else the
// scenario's strategy.
func (v *view) lawOfRun(r attemptRun) runLaw {
	l, ok := sleepLawOf(r.Ct)
	if !ok {
		st := v.sc.Client.Reconnect.Strategy
		d := strategyDelays(st)
		return runLaw{
			Nominal: func(k int) time.Duration { return d.Delay(k + 1) },
			Upper:   func(k int) time.Duration { return d.Delay(k + 1) },
			Exact:   func(int) bool { return false }, Jitter: st.Jitter,
			Law:      sleepLaw{Kind: d.Kind, J: st.Jitter},
			Declared: st.Jitter > 0,
			From:     fmt.Sprintf("the scenario's strategy (%s, initial %s, multiplier %g, max %s, jitter %g): the wait after attempt k is Delay(k+1)", st.Backoff, dur(st.Initial), st.Multiplier, dur(st.Max), st.Jitter),
		}
	}
	shift := 1
	if r.Ct.Value(termFirstAttempt) == "immediate" {
		shift = 0
	}
	_, hasJ := r.Ct.Params[paramJitter]
	_, hasJm := r.Ct.Params[paramJitterMs]
	_, hasTerm := r.Ct.Terms[termJitter]
	rl := runLaw{
		Nominal:  func(k int) time.Duration { return l.Nominal(k + shift) },
		Upper:    func(k int) time.Duration { return l.Sleep(k + shift) },
		Exact:    func(k int) bool { return l.FirstExact && k+shift == 0 },
		Jitter:   l.Jitter,
		Law:      l,
		Declared: hasJ || hasJm || hasTerm,
		Contract: true,
		From:     l.From + "; " + r.Ct.Says(termFirstAttempt),
	}
	if shift == 0 {
		rl.From += ": attempt 0 at once, sleep k after attempt k"
	} else {
		rl.From += ": sleep 0 before attempt 0, sleep k+1 after attempt k"
	}
	return rl
}

// secs renders a duration in seconds with three decimals (the interop
// test's table).
func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

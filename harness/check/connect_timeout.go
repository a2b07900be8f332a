package check

import (
	"fmt"
	"strings"
	"time"
)

// Defaults of connect_timeout.
const (
	DefaultConnectTimeoutTolerance    = 50 * time.Millisecond
	DefaultConnectTimeoutTolerancePct = 10.0
)

func init() {
	Register(Spec{Name: "connect_timeout", Judges: []string{"R2"}, New: func() Checker { return &ConnectTimeout{} }})
}

// ConnectTimeout judges R2's connect timeout: an attempt the server never
// answers (its link under `blackhole`: the link accepts and dials the
// server, and nothing comes back) is given up after the library's connect
// deadline, neither sooner nor much later. gRPC's spec
// (doc/connection-backoff.md) gives each attempt
// TryConnect(Max(current_deadline, now() + MIN_CONNECT_TIMEOUT)), i.e.
// max(min_connect_timeout, the current back-off) (grpc-go clientconn.go
// addrConn.resetTransportAndUnlock: dialDuration = max(minConnectTimeout,
// backoffFor)); a library with a plain connect timeout gives every attempt
// the same.
//
// Which deadline: the client's effective contract's connect_deadline term
// (max_backoff: max(min_connect_timeout_ms, back-off k), back-off k being
// the contract's sleep k for attempt k of a run (attempt_runs.go: gRPC's
// back-off index, per server, reset on success), within its jitter band,
// exact where first_wait_exact says; fixed, or no term:
// min_connect_timeout_ms), min_connect_timeout_ms falling back to the
// scenario's client.connect_timeout, as does a client without a contract.
//
// An attempt is judged when its link had a blackhole in force at its
// accept and until the attempt's end, measured from its link accept (the
// server's where the link recorded none) to:
//   - the server's conn.close of it, recorded before the client's next
//     attempt on that server: the client gave up and its close came through
//     (two-sided: the deadline within the tolerance);
//   - else the client's next attempt on that server, which a library makes
//     only after the previous one ended, sleeping its back-off in between
//     (grpc-go after the attempt, the spec until the attempt's start +
//     back-off): the attempt lasted at most that gap and at least the gap
//     minus the longest sleep the contract allows after it, so a gap below
//     the deadline is an early give-up and one beyond deadline + that sleep
//     a late one;
//   - else, when it was the client's last attempt of the outage or first
//     connect, the client's CLOSED_* state ending it (client-reported).
//
// A close at the blackhole's heal (healing closes held connections) ends
// nothing: such an attempt is not judged. The tolerance is tolerance +
// tolerance_pct of the deadline, widened by the run's cross-observer slack
// and any machine stall inside the attempt.
type ConnectTimeout struct {
	// Tolerance is the absolute slack on each attempt's duration (default
	// 50ms).
	Tolerance *time.Duration `yaml:"tolerance"`
	// TolerancePct adds this percentage of the deadline (default 10).
	TolerancePct *float64 `yaml:"tolerance_pct"`
	// MinAttempts is how many blackholed attempts must be judged (default
	// 1); fewer is UNKNOWN.
	MinAttempts *int `yaml:"min_attempts"`
}

// Validate checks the parameters.
func (c *ConnectTimeout) Validate() error {
	if err := nonNegative("tolerance", or(c.Tolerance, 0)); err != nil {
		return err
	}
	if pct := or(c.TolerancePct, 0); pct < 0 {
		return fmt.Errorf("tolerance_pct must not be negative (got %g)", pct)
	}
	if n := or(c.MinAttempts, 1); n < 1 {
		return fmt.Errorf("min_attempts must be at least 1 (got %d)", n)
	}
	return nil
}

// NeedsOneClient implements OneClient: attempts are server-side accepts,
// which cannot be attributed to one of several clients.
func (c *ConnectTimeout) NeedsOneClient() string { return oneClientWhy }

// Check implements Checker.
func (c *ConnectTimeout) Check(in Input) Result { return onView(in, c, c.check) }

// deadline is an attempt's connect deadline: within [Lo, Hi] (equal unless
// the back-off is jittered), and how it was derived.
type deadline struct {
	Lo, Hi time.Duration
	Says   string
}

// deadlineOf is attempt k's deadline in run r, and the longest sleep the
// library's law allows after it.
func (c *ConnectTimeout) deadlineOf(v *view, r attemptRun, k int) (deadline, time.Duration) {
	law := v.lawOfRun(r)
	sleepMax := law.Upper(k)
	if law.Exact(k) {
		sleepMax = law.Nominal(k)
	}
	mct, mctFrom := v.connectTimeout(), "the scenario's connect_timeout"
	if ms, ok := r.Ct.Param(paramMinConnectTimeout); ok {
		mct, mctFrom = time.Duration(ms*float64(time.Millisecond)), "contract param "+paramMinConnectTimeout
	}
	if r.Ct == nil {
		return deadline{Lo: mct, Hi: mct, Says: fmt.Sprintf("connect_timeout %s (the scenario's; no contract)", secs(mct))}, sleepMax
	}
	if r.Ct.Value(termConnectDeadline) != "max_backoff" {
		return deadline{Lo: mct, Hi: mct, Says: fmt.Sprintf("%s %s (%s)", mctFrom, secs(mct), r.Ct.Says(termConnectDeadline))}, sleepMax
	}
	l, ok := sleepLawOf(r.Ct)
	if !ok {
		return deadline{Lo: mct, Hi: mct, Says: fmt.Sprintf("%s %s (%s; the contract gives no back-off params)", mctFrom, secs(mct), r.Ct.Says(termConnectDeadline))}, sleepMax
	}
	bHi := l.Sleep(k)
	bLo := time.Duration(float64(bHi) * (1 - l.Jitter))
	if l.FirstExact && k == 0 {
		bLo, bHi = l.Nominal(0), l.Nominal(0)
	}
	d := deadline{Lo: max(mct, bLo), Hi: max(mct, bHi)}
	b := secs(bHi)
	if bLo != bHi {
		b = fmt.Sprintf("[%s, %s]", secs(bLo), secs(bHi))
	}
	d.Says = fmt.Sprintf("max(%s %s, back-off %d %s) (%s)", mctFrom, secs(mct), k, b, r.Ct.Says(termConnectDeadline))
	return d, sleepMax
}

// heldUntil is when the blackhole in force on link at t was healed (ok
// false: none was in force).
func (v *view) heldUntil(link string, t time.Duration) (time.Duration, bool) {
	for _, f := range v.faults {
		if f.Link == link && f.Verb == VerbBlackhole && f.inForce(t) {
			if f.Off == nil {
				return v.end + time.Hour, true
			}
			return f.Off.T, true
		}
	}
	return 0, false
}

func (c *ConnectTimeout) check(v *view) Result {
	if r, ok := v.needOneClient(); !ok {
		return r
	}
	abs, pct := or(c.Tolerance, DefaultConnectTimeoutTolerance), or(c.TolerancePct, DefaultConnectTimeoutTolerancePct)
	var j judge
	var rows []string
	held, judged, unended := 0, 0, 0
	last := time.Duration(0)
	for _, r := range v.attemptRuns(true) {
		for k, a := range r.Attempts {
			heal, ok := v.heldUntil(a.Accept.Server, a.at())
			if !ok {
				continue
			}
			held++
			dl, sleepMax := c.deadlineOf(v, r, k)
			name := fmt.Sprintf("%s attempt %d", r.What, k)
			var next *attempt
			if k+1 < len(r.Attempts) {
				next = &r.Attempts[k+1]
			}
			// The attempt's end, and whether it bounds it from both sides.
			var end time.Duration
			var endWhat string
			exact := true
			switch {
			case a.Close != nil && a.Close.T+v.slack < heal && (next == nil || a.Close.T <= next.at()+v.slack):
				end, endWhat = a.Close.T, "server conn.close "+a.conn()
			case next != nil && next.at()+v.slack < heal:
				end, endWhat, exact = next.at(), "the next attempt's "+acceptWhat(*next), false
			case next == nil && !r.Later[k] && r.Closed && r.End+v.slack < heal:
				end, endWhat = r.End, "the client's close (client-reported)"
			default:
				unended++
				continue
			}
			judged++
			last = max(last, end)
			stall := v.stalled(a.at(), end)
			tol := abs + time.Duration(float64(dl.Hi)*pct/100) + v.slack + stall
			lo, hi := dl.Lo-tol, dl.Hi+tol
			gap := end - a.at()
			from := fmt.Sprintf("%s at %s", acceptWhat(a), dur(a.at()))
			if exact {
				row := fmt.Sprintf("%s: lasted %s (%s → %s at %s), deadline %s within [%s, %s]", name, secs(gap), from, endWhat, dur(end), dl.Says, secs(lo), secs(hi))
				j.measureMs(name+" lasted", gap, fmt.Sprintf("%s at %s − %s", endWhat, dur(end), from), fmt.Sprintf("deadline %s within [%s, %s]%s", dl.Says, dur(lo), dur(hi), stallNote(stall)))
				j.ms[len(j.ms)-1].Bounds = &Bounds{Expected: Ms(dl.Hi), Lo: Ms(lo), Hi: Ms(hi)}
				if gap < lo || gap > hi {
					row += " OUTSIDE"
					j.fail(end, "%s lasted %s (%s → %s at %s) under a blackhole; its deadline is %s, within [%s, %s]", name, secs(gap), from, endWhat, dur(end), dl.Says, secs(lo), secs(hi))
				}
				rows = append(rows, row)
				continue
			}
			// Bounded by the next attempt: the attempt lasted at most gap,
			// at least gap − the longest sleep after it.
			hiGap := hi + sleepMax
			row := fmt.Sprintf("%s: ended within %s (%s → %s at %s; at most %s of it the back-off sleep), deadline %s within [%s, %s]", name, secs(gap), from, endWhat, dur(end), secs(sleepMax), dl.Says, secs(lo), secs(hi))
			j.measureMs(name+" ended within", gap, fmt.Sprintf("%s at %s − %s (the attempt and the sleep after it)", endWhat, dur(end), from),
				fmt.Sprintf("deadline %s within [%s, %s], plus a sleep of at most %s%s", dl.Says, dur(lo), dur(hi), dur(sleepMax), stallNote(stall)))
			j.ms[len(j.ms)-1].Bounds = &Bounds{Expected: Ms(dl.Hi), Lo: Ms(lo), Hi: Ms(hiGap)}
			switch {
			case gap < lo:
				row += " OUTSIDE"
				j.fail(end, "%s gave up early: %s's next attempt came %s after it (%s → %s at %s), less than its deadline %s (at least %s) under a blackhole", name, r.What, secs(gap), from, endWhat, dur(end), dl.Says, secs(lo))
			case gap > hiGap:
				row += " OUTSIDE"
				j.fail(end, "%s held on too long: %s's next attempt came %s after it (%s → %s at %s), more than its deadline %s (at most %s) plus the longest back-off sleep %s", name, r.What, secs(gap), from, endWhat, dur(end), dl.Says, secs(hi), secs(sleepMax))
			}
			rows = append(rows, row)
		}
	}
	j.count("attempts judged", judged, "attempts accepted while their link was blackholed, ended before the heal")
	if unended > 0 {
		j.note("%d blackholed attempt(s) not judged: no end seen before the heal (which closes held connections) or the history's end: no close of it, no next attempt on its server, no close of the client after it", unended)
	}
	if minN := or(c.MinAttempts, 1); judged < minN {
		why := "no attempt was accepted while its link was blackholed (put a blackhole on the server's link before the client connects, or before its reconnects)"
		if held > 0 {
			why = fmt.Sprintf("%d attempt(s) under a blackhole, %d of them with an end seen before the heal, fewer than min_attempts %d", held, judged, minN)
		}
		return j.inconclusive(v.end, "nothing to judge: %s", why)
	}
	if j.failed() {
		r := j.result(last, "")
		r.Detail += ". All attempts: " + listRows(rows)
		return r
	}
	return j.result(last, "%d attempt(s) under a blackhole each lasted its connect deadline: %s", judged, listRows(rows))
}

// listRows joins rows, at most maxInteropRows of them.
func listRows(rows []string) string {
	if len(rows) > maxInteropRows {
		return strings.Join(rows[:maxInteropRows], "; ") + fmt.Sprintf("; … %d more", len(rows)-maxInteropRows)
	}
	return strings.Join(rows, "; ")
}

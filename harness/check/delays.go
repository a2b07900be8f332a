package check

import (
	"fmt"
	"math"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

// delays is the back-off a client was to follow in one outage: Delay(k) is
// the upper end of the wait before attempt k (0-based), the wait lying in
// [(1−Jitter)·Delay(k), Delay(k)]. It is the scenario's strategy unless the
// client's effective contract gives the library's own numbers: a real
// library may not be able to express what the scenario asked (its driver
// lists that under `unsupported`) and is judged by what it promises.
type delays struct {
	Delay  func(k int) time.Duration
	Jitter float64
	From   string // how Delay was derived ("": the scenario's strategy)
	// Nominal is the wait before attempt k without jitter (the law's
	// anchor: the top of the band for `below`, its centre for
	// `symmetric`, its bottom for `added`); Exact reports a wait drawn
	// without jitter (first_wait_exact: the first sleep); Kind is the
	// jitter law (below, added, symmetric, none).
	Nominal func(k int) time.Duration
	Exact   func(k int) bool
	Kind    string
}

// Jitter laws (the contract's jitter term; faultline's own strategy is below).
const (
	jitterNone      = "none"
	jitterBelow     = "below"
	jitterAdded     = "added"
	jitterSymmetric = "symmetric"
)

// sleepLaw is the law of a contract's n-th sleep (0-based): uniform in
// [(1−Jitter)·Sleep(n), Sleep(n)], anchored at Nominal(n) (the un-jittered
// delay), exactly Nominal(0) when FirstExact.
type sleepLaw struct {
	Sleep, Nominal func(n int) time.Duration
	Jitter         float64
	Kind           string
	J              float64 // the jitter as the contract states it: j, or jitter_ms/reconnect_wait_ms
	FirstExact     bool
	From           string
}

// sleepLawOf reads the contract's back-off params. Each jitter kind is a
// uniform factor, so each maps onto one band [(1−Jitter)·Sleep(n), Sleep(n)]
// with the law kept uniform: added d·U[1, 1+j] is (1+j)d·U[1/(1+j), 1],
// symmetric d·U[1−j, 1+j] is (1+j)d·U[(1−j)/(1+j), 1], reconnect_wait_ms w
// + U[0, jitter_ms) is (w+jitter_ms)·U[w/(w+jitter_ms), 1]. ok is false when
// the contract has none.
func sleepLawOf(ct *Contract) (l sleepLaw, ok bool) {
	msDur := func(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
	l.FirstExact = ct.Flag(paramFirstWaitExact)
	if w, has := ct.Param(paramWait); has {
		jm, _ := ct.Param(paramJitterMs)
		d, nom := msDur(w+jm), msDur(w)
		l.Kind = jitterNone
		if w+jm > 0 && jm > 0 {
			l.Jitter, l.Kind = jm/(w+jm), jitterAdded
			if w > 0 {
				l.J = jm / w
			}
		}
		l.Sleep = func(int) time.Duration { return d }
		l.Nominal = func(int) time.Duration { return nom }
		l.From = fmt.Sprintf("contract params %s %g + U[0, %s %g): every sleep within [%s, %s]", paramWait, w, paramJitterMs, jm, dur(nom), dur(d))
		return l, true
	}
	ini, has := ct.Param(paramInitial)
	if !has {
		return l, false
	}
	mul, _ := ct.Param(paramMultiplier)
	if mul <= 0 {
		mul = 1
	}
	mx, _ := ct.Param(paramMax)
	j, _ := ct.Param(paramJitter)
	scale := 1.0
	l.Kind = ct.Value(termJitter)
	if l.Kind == "" {
		l.Kind = jitterBelow
	}
	switch {
	case j <= 0 || l.Kind == jitterNone:
		j, l.Kind = 0, jitterNone
	case l.Kind == jitterAdded:
		scale, l.Jitter = 1+j, j/(1+j)
	case l.Kind == jitterSymmetric:
		scale, l.Jitter = 1+j, 2*j/(1+j)
	default: // below, or unnamed: faultline's own model
		l.Kind, l.Jitter = jitterBelow, j
	}
	l.J = j
	l.Nominal = func(n int) time.Duration {
		d := ini * math.Pow(mul, float64(n))
		if mx > 0 && d > mx {
			d = mx
		}
		return msDur(d)
	}
	l.Sleep = func(n int) time.Duration { return time.Duration(float64(l.Nominal(n)) * scale) }
	l.From = fmt.Sprintf("contract params: sleep n is min(%s %g·%s %g^n, %s %g), jitter %g (%s)",
		paramInitial, ini, paramMultiplier, mul, paramMax, mx, j, l.Kind)
	if l.FirstExact {
		l.From += fmt.Sprintf("; %s: sleep 0 exactly %s", paramFirstWaitExact, dur(l.Nominal(0)))
	}
	return l, true
}

// sleeps reads the contract's back-off params: sleep(n) is the upper end of
// its n-th sleep (0-based), every sleep lying in [(1−jitter)·sleep(n),
// sleep(n)] (sleepLawOf). ok is false when the contract has none.
func sleepsOf(ct *Contract) (sleep func(n int) time.Duration, jitter float64, from string, ok bool) {
	l, ok := sleepLawOf(ct)
	if !ok {
		return nil, 0, "", false
	}
	return l.Sleep, l.Jitter, l.From, true
}

// delaysOf is outage o's per-attempt back-off: the contract's when its
// client's effective contract gives one (with first_attempt: immediate the
// first attempt is due at once and sleep n precedes attempt n+1), else the
// scenario's strategy.
func (v *outageView) delaysOf(o outage) delays {
	return delaysFor(v.sc.Client.Reconnect.Strategy, v.cv.contract(o.Client, o.Start.T))
}

// delaysFor is the per-attempt back-off under contract ct (nil: the
// scenario's strategy st).
func delaysFor(st scenario.Strategy, ct *Contract) delays {
	l, ok := sleepLawOf(ct)
	if !ok {
		return strategyDelays(st)
	}
	d := delays{Delay: l.Sleep, Nominal: l.Nominal, Jitter: l.Jitter, Kind: l.Kind, From: l.From,
		Exact: func(k int) bool { return l.FirstExact && k == 0 }}
	if ct.Value(termFirstAttempt) == "immediate" {
		shift := func(f func(int) time.Duration) func(int) time.Duration {
			return func(k int) time.Duration {
				if k == 0 {
					return 0
				}
				return f(k - 1)
			}
		}
		d.Delay, d.Nominal = shift(l.Sleep), shift(l.Nominal)
		d.Exact = func(k int) bool { return k == 0 || (l.FirstExact && k == 1) }
		d.From += "; first_attempt immediate: attempt 0 at once, sleep k−1 before attempt k"
	}
	d.From += " (the client's effective contract: " + ct.Says(termFirstAttempt) + ")"
	return d
}

func strategyDelays(st scenario.Strategy) delays {
	kind := jitterBelow
	if st.Jitter <= 0 {
		kind = jitterNone
	}
	return delays{Delay: st.Delay, Nominal: st.Delay, Jitter: st.Jitter, Kind: kind, Exact: func(int) bool { return false }}
}

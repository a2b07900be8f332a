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
}

// sleeps reads the contract's back-off params: sleep(n) is the upper end of
// its n-th sleep (0-based), every sleep lying in [(1−jitter)·sleep(n),
// sleep(n)]. Each jitter kind is a uniform factor, so each maps onto that
// band: added d·U[1, 1+j] is (1+j)d·U[1/(1+j), 1], symmetric d·U[1−j, 1+j]
// is (1+j)d·U[(1−j)/(1+j), 1]. ok is false when the contract has none.
func sleepsOf(ct *Contract) (sleep func(n int) time.Duration, jitter float64, from string, ok bool) {
	msDur := func(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
	if w, has := ct.Param(paramWait); has {
		jm, _ := ct.Param(paramJitterMs)
		d := msDur(w + jm)
		if w+jm > 0 {
			jitter = jm / (w + jm)
		}
		return func(int) time.Duration { return d }, jitter,
			fmt.Sprintf("contract params %s %g + U[0, %s %g): every sleep within [%s, %s]", paramWait, w, paramJitterMs, jm, dur(msDur(w)), dur(d)), true
	}
	ini, has := ct.Param(paramInitial)
	if !has {
		return nil, 0, "", false
	}
	mul, _ := ct.Param(paramMultiplier)
	if mul <= 0 {
		mul = 1
	}
	mx, _ := ct.Param(paramMax)
	j, _ := ct.Param(paramJitter)
	scale := 1.0
	kind := ct.Value(termJitter)
	if kind == "" {
		kind = "below"
	}
	switch {
	case j <= 0 || kind == "none":
		j = 0
	case kind == "added":
		scale, jitter = 1+j, j/(1+j)
	case kind == "symmetric":
		scale, jitter = 1+j, 2*j/(1+j)
	default: // below, or unnamed: faultline's own model
		jitter = j
	}
	sleep = func(n int) time.Duration {
		d := ini * math.Pow(mul, float64(n))
		if mx > 0 && d > mx {
			d = mx
		}
		return msDur(d * scale)
	}
	return sleep, jitter, fmt.Sprintf("contract params: sleep n is min(%s %g·%s %g^n, %s %g), jitter %g (%s)",
		paramInitial, ini, paramMultiplier, mul, paramMax, mx, j, kind), true
}

// delaysOf is outage o's per-attempt back-off: the contract's when its
// client's effective contract gives one (with first_attempt: immediate the
// first attempt is due at once and sleep n precedes attempt n+1), else the
// scenario's strategy.
func (v *outageView) delaysOf(o outage) delays {
	st := v.sc.Client.Reconnect.Strategy
	ct := v.cv.contract(o.Client, o.Start.T)
	sleep, jit, from, ok := sleepsOf(ct)
	if !ok {
		return strategyDelays(st)
	}
	d := delays{Delay: sleep, Jitter: jit, From: from}
	if ct.Value(termFirstAttempt) == "immediate" {
		d.Delay = func(k int) time.Duration {
			if k == 0 {
				return 0
			}
			return sleep(k - 1)
		}
		d.From += "; first_attempt immediate: attempt 0 at once, sleep k−1 before attempt k"
	}
	d.From += " (the client's effective contract: " + ct.Says(termFirstAttempt) + ")"
	return d
}

func strategyDelays(st scenario.Strategy) delays { return delays{Delay: st.Delay, Jitter: st.Jitter} }

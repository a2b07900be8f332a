package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Fault spans: what the links did, from their fault.on and fault.off
// records alone (link evidence). Built once per history (newBase) and shared
// by view and routeView.

// Fault verbs that take a connection away (the others only degrade it).
const (
	VerbCut       = "cut"
	VerbReset     = "reset"
	VerbBlackhole = "blackhole"
	VerbDown      = "down"
)

// Fault verbs that only degrade a connection: they delay what crosses the
// link (slow, throttle, slice) or end it once its byte budget is spent
// (limit).
const (
	VerbSlow     = "slow"
	VerbThrottle = "throttle"
	VerbSlice    = "slice"
	VerbLimit    = "limit"
)

func isLossVerb(v string) bool {
	return v == VerbCut || v == VerbReset || v == VerbBlackhole || v == VerbDown
}

// faultSpans pairs each fault.on with its fault.off (by the fault's id, else
// its link and verb), in fault.on order.
func faultSpans(h history.History) []faultSpan {
	var out []faultSpan
	open := map[string][]int{} // link|id-or-verb -> indexes of open spans
	for _, e := range h {
		switch e.Kind {
		case history.KindFaultOn:
			out = append(out, faultSpan{Link: e.Link, Verb: e.Verb, On: e})
			k := faultKey(e)
			open[k] = append(open[k], len(out)-1)
		case history.KindFaultOff:
			k := faultKey(e)
			if idx := open[k]; len(idx) > 0 {
				off := e
				out[idx[0]].Off = &off
				open[k] = idx[1:]
			}
		}
	}
	return out
}

func faultKey(e history.Event) string {
	if id := e.Attr("id"); id != "" {
		return e.Link + "|id:" + id
	}
	return e.Link + "|verb:" + e.Verb
}

// faultSpan is one fault on a link, from its fault.on to its fault.off (nil:
// still in force at the end).
type faultSpan struct {
	Link, Verb string
	On         history.Event
	Off        *history.Event
}

// began is when the link began applying the fault: fault.on is recorded
// once it is in force, and a fault acts while it is applied (a cut of 1,000
// connections drops them over tens of ms before its fault.on).
func (f faultSpan) began() time.Duration {
	d, _ := attrMs(f.On, "apply_ms")
	return f.On.T - d
}

func (f faultSpan) inForce(t time.Duration) bool {
	return f.On.T <= t && (f.Off == nil || f.Off.T > t)
}

func (f faultSpan) String() string {
	return fmt.Sprintf("%s on %s at %s", f.Verb, f.Link, dur(f.On.T))
}

// faultInForce reports whether a fault with verb was in force on link at t.
func (v *base) faultInForce(link, verb string, t time.Duration) bool {
	for _, f := range v.faults {
		if f.Link == link && f.Verb == verb && f.inForce(t) {
			return true
		}
	}
	return false
}

// lossFaultBefore is the last loss fault switched on on link at or before t.
func (v *base) lossFaultBefore(link string, t time.Duration) (faultSpan, bool) {
	var out faultSpan
	found := false
	for _, f := range v.faults {
		if f.Link == link && isLossVerb(f.Verb) && f.On.T <= t {
			out, found = f, true
		}
	}
	return out, found
}

// lossOnLink reports whether a loss fault was in force on link at t.
func (v *base) lossOnLink(link string, t time.Duration) bool {
	for _, f := range v.faults {
		if f.Link == link && isLossVerb(f.Verb) && f.On.T <= t+stampSlack && (f.Off == nil || f.Off.T >= t) {
			return true
		}
	}
	return false
}

// heals are the fault.off records of loss faults after which no other loss
// fault stays in force on the link.
func (v *base) heals() []faultSpan {
	var out []faultSpan
	for i, f := range v.faults {
		if !isLossVerb(f.Verb) || f.Off == nil {
			continue
		}
		still := false
		for k, g := range v.faults {
			if k != i && g.Link == f.Link && isLossVerb(g.Verb) && g.inForce(f.Off.T) {
				still = true
			}
		}
		if !still {
			out = append(out, f)
		}
	}
	return out
}

// lossFaultDuring is a loss fault (cut, reset, blackhole, down) in force on
// link at some time in [from, to], if any.
func (v *base) lossFaultDuring(link string, from, to time.Duration) (faultSpan, bool) {
	for _, f := range v.faults {
		if f.Link == link && isLossVerb(f.Verb) && f.On.T <= to && (f.Off == nil || f.Off.T >= from) {
			return f, true
		}
	}
	return faultSpan{}, false
}

// downAt reports whether link was down (refusing: no server sees the
// attempt) at t.
func (v *base) downAt(link string, t time.Duration) bool { return v.faultInForce(link, VerbDown, t) }

// degradedDuring is a degrading fault (not a loss verb) in force on link at
// some time in [from, to], if any.
func (v *base) degradedDuring(link string, from, to time.Duration) (faultSpan, bool) {
	for _, f := range v.faults {
		if f.Link == link && !isLossVerb(f.Verb) && f.began() <= to && (f.Off == nil || f.Off.T >= from) {
			return f, true
		}
	}
	return faultSpan{}, false
}

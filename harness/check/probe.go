package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// probeNear is how far around a claim the driver lag probes count: from the
// evidence's stamp − probeNear to the claim's + probeNear. The runner probes
// every 50 ms (harness/runner/lagprobe.go), so a window holds a few.
const probeNear = 100 * time.Millisecond

// procProbes are one driver process's lag probes (history.KindProbe): the
// round trip of a probe op through the process's pipe and event loop,
// stamped at its reply, in order.
type procProbes struct {
	driver, clients string // as recorded: the process's number, the clients it hosts
	at              []time.Duration
	rtt             []time.Duration
}

// probeIndex is every process's probes and which process hosts each client.
type probeIndex struct {
	procs []*procProbes
	of    map[int]*procProbes
}

type probesKey struct{}

// probes indexes the history's driver lag probes (once per view).
func (v *view) probes() probeIndex {
	return derive(v.memo, probesKey{}, func() probeIndex { return probesOf(v.h) })
}

func probesOf(h history.History) probeIndex {
	idx := probeIndex{of: map[int]*procProbes{}}
	byProc := map[string]*procProbes{}
	for _, e := range h {
		if e.Source != history.SrcHarness || e.Kind != history.KindProbe {
			continue
		}
		ms, err := strconv.ParseFloat(e.Attr("rtt_ms"), 64)
		if err != nil || ms < 0 {
			continue
		}
		key := e.Attr("driver") + "|" + e.Attr("clients")
		p := byProc[key]
		if p == nil {
			p = &procProbes{driver: e.Attr("driver"), clients: e.Attr("clients")}
			byProc[key] = p
			idx.procs = append(idx.procs, p)
			for _, c := range parseRanges(e.Attr("clients")) {
				idx.of[c] = p
			}
		}
		p.at = append(p.at, e.T)
		p.rtt = append(p.rtt, time.Duration(ms*float64(time.Millisecond)))
	}
	return idx
}

// parseRanges reads "0-2,7" (the runner's rangesText) into 0, 1, 2, 7;
// what it cannot read it leaves out.
func parseRanges(s string) []int {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				continue
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out
}

// probeLag is how long client c's driver process may have held a report
// back around [from, to]: the longest it went without answering a probe
// there, i.e. the largest interval between consecutive probe replies (each
// at least the later probe's round trip, since one process's probes go one
// after another), or the largest round trip if that is longer. A probe
// samples the process's lag only at the instant it is sent: a stretch in
// which the process runs nothing of ours may fall between two probes and
// show in no round trip (measured: the honest Node driver at 1,000 clients
// reported 101.5ms late while the largest round trip nearby was 69.5ms),
// but it cannot fall between two replies. n is how many probes lie in
// [from, to]; with fewer than two the lag is not bounded (n < 2: how is "").
func (v *view) probeLag(c int, from, to time.Duration) (lag time.Duration, n int, how string) {
	p := v.probes().of[c]
	if p == nil {
		return 0, 0, ""
	}
	var rtt time.Duration
	i := sort.Search(len(p.at), func(i int) bool { return p.at[i] >= from })
	for first := i; i < len(p.at) && p.at[i] <= to; i++ {
		rtt = max(rtt, p.rtt[i])
		if i > first {
			lag = max(lag, p.at[i]-p.at[i-1])
		}
		n++
	}
	if n < 2 {
		return 0, n, ""
	}
	lag = max(lag, rtt)
	return lag, n, fmt.Sprintf("the longest wait between answers of %d probes of driver %d (clients %s) in [%s, %s]; largest round trip %s",
		n, atoiOr(p.driver), p.clients, dur(from), dur(to), dur(rtt))
}

func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

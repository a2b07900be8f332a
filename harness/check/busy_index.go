package check

import (
	"sort"
	"time"
)

// busyIndex answers, for a walk, the first busy interval of another client
// that overlaps it, in the order of busyIntervals (sorted by start), in
// O(log n) a question rather than a scan of every interval: with thousands
// of clients the scan made finding the walks quadratic. It is a max-tree
// over the intervals' ends.
type busyIndex struct {
	busy []interval
	max  []time.Duration // max[node]: the latest end in node's range
}

func newBusyIndex(busy []interval) *busyIndex {
	x := &busyIndex{busy: busy, max: make([]time.Duration, 4*max(1, len(busy)))}
	if len(busy) > 0 {
		x.build(1, 0, len(busy))
	}
	return x
}

func (x *busyIndex) build(node, lo, hi int) time.Duration {
	if hi-lo == 1 {
		x.max[node] = x.busy[lo].to
		return x.max[node]
	}
	mid := (lo + hi) / 2
	x.max[node] = max(x.build(2*node, lo, mid), x.build(2*node+1, mid, hi))
	return x.max[node]
}

// clash is the first interval (in busy order) of a client other than c
// that starts at or before upTo and ends at or after from (false: none).
func (x *busyIndex) clash(c int, from, upTo time.Duration) (interval, bool) {
	end := sort.Search(len(x.busy), func(i int) bool { return x.busy[i].from > upTo })
	for start := 0; start < end; {
		k := x.first(1, 0, len(x.busy), start, end, from)
		if k < 0 {
			break
		}
		if x.busy[k].client != c {
			return x.busy[k], true
		}
		start = k + 1 // c's own interval: only as many as c has walks and outages
	}
	return interval{}, false
}

// first is the first index in [start, end) within node's range [lo, hi)
// whose interval ends at or after t (-1: none).
func (x *busyIndex) first(node, lo, hi, start, end int, t time.Duration) int {
	if hi <= start || lo >= end || x.max[node] < t {
		return -1
	}
	if hi-lo == 1 {
		return lo
	}
	mid := (lo + hi) / 2
	if k := x.first(2*node, lo, mid, start, end, t); k >= 0 {
		return k
	}
	return x.first(2*node+1, mid, hi, start, end, t)
}

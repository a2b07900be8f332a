package check

import (
	"sort"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Indexes of the history that questions asked once per client or per
// outage would otherwise answer by scanning the whole history each time
// (O(clients × events): minutes at thousands of clients). Each is built
// on first use, in one pass, and kept in the view's memo. Every answer is
// the one the scan it replaces gave, event for event, whether or not the
// history is in time order (the DSL's hand-written ones need not be).

type keyPrefixMaxT struct{}

// scanEnd is where a scan of the history in order that stops at its first
// event stamped after t stops: the index of that event (len(h): none).
// The running maximum of the stamps is monotone, so it is searchable even
// when the history is not in time order.
func (b *base) scanEnd(t time.Duration) int {
	pm := derive(b.memo, keyPrefixMaxT{}, func() []time.Duration {
		out := make([]time.Duration, len(b.h))
		var m time.Duration
		for i, e := range b.h {
			if i == 0 || e.T > m {
				m = e.T
			}
			out[i] = m
		}
		return out
	})
	return sort.Search(len(pm), func(i int) bool { return pm[i] > t })
}

// createIndex is the history's session.create events as indexes into it,
// in history order: all of them and per session id.
type createIndex struct {
	all    []int
	bySess map[string][]int
}

type keyCreates struct{}

func (b *base) creates() createIndex {
	return derive(b.memo, keyCreates{}, func() createIndex {
		ix := createIndex{bySess: map[string][]int{}}
		for i, e := range b.h {
			if e.Kind == history.KindSessionCreate {
				ix.all = append(ix.all, i)
				ix.bySess[e.Session] = append(ix.bySess[e.Session], i)
			}
		}
		return ix
	})
}

// firstOf is the first of the events at indexes idx (in history order)
// for which keep is true (-1: none).
func (b *base) firstOf(idx []int, keep func(e history.Event) bool) int {
	for _, i := range idx {
		if keep(b.h[i]) {
			return i
		}
	}
	return -1
}

package history

import (
	"sync"
	"testing"
)

// Concurrent observers: every event is kept, the list is in time order
// although stamps are taken before the lock, and moving the origin
// meanwhile (StartTimeline) shifts every event alike.
func TestRecordConcurrentlyKeepsTimeOrder(t *testing.T) {
	l := NewLog(NewClock())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				l.Record(Event{Kind: KindStep})
			}
		}()
	}
	l.StartTimeline()
	wg.Wait()
	h := l.Events()
	if len(h) != 8*500 {
		t.Fatalf("%d events, want %d", len(h), 8*500)
	}
	for i := 1; i < len(h); i++ {
		if h[i].T < h[i-1].T {
			t.Fatalf("event %d at %v before event %d at %v", i, h[i].T, i-1, h[i-1].T)
		}
	}
	if last := h[len(h)-1].T; last > l.Clock().Now() {
		t.Fatalf("last event at %v, after now %v: not on the moved origin", last, l.Clock().Now())
	}
}

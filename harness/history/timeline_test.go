package history

import (
	"testing"
	"time"
)

func TestStartTimelineMovesOffsetZeroAndKeepsOrder(t *testing.T) {
	l := NewLog(NewClock())
	l.Record(Event{Kind: "before"}) // e.g. while containers came up
	time.Sleep(20 * time.Millisecond)
	l.StartTimeline()
	l.Record(Event{Kind: "after"})
	evs := l.Events()
	if evs[0].T >= 0 {
		t.Errorf("an event from before the timeline has offset %v, want negative", evs[0].T)
	}
	if evs[1].T < 0 || evs[1].T > 10*time.Millisecond {
		t.Errorf("the first event of the timeline has offset %v, want about 0", evs[1].T)
	}
	if evs[0].T > evs[1].T {
		t.Error("order lost")
	}
	if d := time.Until(l.Clock().At(0)); d > 0 || d < -10*time.Millisecond {
		t.Errorf("clock offset 0 is %v from now, want about now", d)
	}
}

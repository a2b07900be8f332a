package history

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLogStampsInOrderUnderConcurrency(t *testing.T) {
	l := NewLog(NewClock())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				l.Record(Event{Source: SrcServer, Kind: KindAccept, T: time.Hour}) // a caller's T is ignored
			}
		}()
	}
	wg.Wait()
	h := l.Events()
	if len(h) != 1600 {
		t.Fatalf("got %d events", len(h))
	}
	for i := 1; i < len(h); i++ {
		if h[i].T < h[i-1].T {
			t.Fatalf("event %d at %v before event %d at %v", i, h[i].T, i-1, h[i-1].T)
		}
	}
	if h[0].T >= time.Hour {
		t.Fatal("Record must stamp with the clock, not trust the caller")
	}
}

func TestAroundAndString(t *testing.T) {
	h := History{
		{T: 10 * time.Millisecond, Source: SrcLink, Kind: KindFaultOn, Link: "s1", Verb: "cut"},
		{T: 500 * time.Millisecond, Source: SrcClient, Kind: KindState, From: "CONNECTED_ACTIVE", To: "RECOVERING_RECONNECT", Client: 2},
		{T: 2 * time.Second, Source: SrcServer, Kind: KindAccept, Server: "s1", Conn: "s1#2"},
	}
	if got := h.Around(450*time.Millisecond, 100*time.Millisecond); len(got) != 1 || got[0].Kind != KindState {
		t.Fatalf("Around = %v", got)
	}
	s := h.String()
	for _, want := range []string{"link=s1 verb=cut", "client=2", "CONNECTED_ACTIVE->RECOVERING_RECONNECT", "conn=s1#2"} {
		if !strings.Contains(s, want) {
			t.Errorf("String lacks %q:\n%s", want, s)
		}
	}
	if n := len(h.Kind(KindAccept)); n != 1 {
		t.Errorf("Kind(accept) = %d", n)
	}
}

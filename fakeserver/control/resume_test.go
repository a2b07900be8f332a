package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// shortResume bounds a follower's resumption to d for one test.
func shortResume(t *testing.T, d time.Duration) {
	old, oldPause := resumeWithin, resumePause
	resumeWithin, resumePause = d, 20*time.Millisecond
	t.Cleanup(func() { resumeWithin, resumePause = old, oldPause })
}

func envLine(n int64) string {
	b, _ := json.Marshal(Envelope{N: n, TS: 1, Event: history.Event{Kind: history.KindAccept, Server: "s1", Conn: "s1#" + strconv.FormatInt(n, 10)}})
	return string(b) + "\n"
}

// A stream that breaks inside a line is asked again from the event after
// the last whole one: every event is handed on once, in order, and the end
// is not reported.
func TestFollowResumesABrokenStream(t *testing.T) {
	shortResume(t, 2*time.Second)
	var mu sync.Mutex
	var froms []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		froms = append(froms, r.URL.Query().Get("from"))
		first := len(froms) == 1
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		fl := w.(http.Flusher)
		if first {
			line := envLine(2)
			fmt.Fprint(w, envLine(0)+envLine(1)+line[:len(line)/2])
			fl.Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close() // broken inside event 2's line
			}
			return
		}
		fmt.Fprint(w, envLine(2)+envLine(3))
		fl.Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := NewClient(srv.Listener.Addr().String())
	defer c.Close()
	got := make(chan int64, 10)
	f := Follow(c, 0, func(e Envelope) { got <- e.N }, func(err error) { t.Errorf("stream given up: %v", err) })
	defer f.Stop()
	for want := int64(0); want < 4; want++ {
		select {
		case n := <-got:
			if n != want {
				t.Fatalf("event %d handed on where %d was due", n, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never came", want)
		}
	}
	select {
	case n := <-got:
		t.Fatalf("event %d handed on again", n)
	case <-time.After(100 * time.Millisecond):
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(froms, ",") != "0,2" || f.Resumed() != 1 {
		t.Fatalf("asked from %v, resumed %d times; want from 0 then 2, resumed once", froms, f.Resumed())
	}
}

// A host that no longer keeps the events wanted ends the stream at once,
// with ErrGone: they cannot be had, however long one waits.
func TestFollowGivesUpWhatIsGone(t *testing.T) {
	shortResume(t, time.Minute)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusGone, "events before 5 are no longer kept")
	}))
	defer srv.Close()
	c := NewClient(srv.Listener.Addr().String())
	defer c.Close()
	ended := make(chan error, 1)
	f := Follow(c, 0, func(Envelope) {}, func(err error) { ended <- err })
	defer f.Stop()
	select {
	case err := <-ended:
		if !errors.Is(err, ErrGone) {
			t.Fatalf("ended with %v, want ErrGone", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a stream whose events are gone was not given up")
	}
}

// A host that is gone is retried for resumeWithin, then given up.
func TestFollowGivesUpAHostThatIsGone(t *testing.T) {
	shortResume(t, 300*time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every ask is refused
	c := NewClient(addr)
	defer c.Close()
	ended := make(chan error, 1)
	start := time.Now()
	f := Follow(c, 0, func(Envelope) {}, func(err error) { ended <- err })
	defer f.Stop()
	select {
	case err := <-ended:
		if took := time.Since(start); err == nil || took < 300*time.Millisecond {
			t.Fatalf("ended with %v after %v; want an error after at least the 300ms of resumption", err, took)
		}
		if f.Resumed() == 0 {
			t.Fatal("given up without asking again")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a host that is gone was retried past its bound")
	}
}

func TestScanWholeLines(t *testing.T) {
	adv, tok, err := scanWholeLines([]byte("ab\ncd"), false)
	if adv != 3 || string(tok) != "ab" || err != nil {
		t.Fatalf("a whole line: %d %q %v", adv, tok, err)
	}
	if adv, tok, err := scanWholeLines([]byte("cd"), false); adv != 0 || tok != nil || err != nil {
		t.Fatalf("a line still coming: %d %q %v", adv, tok, err)
	}
	if _, _, err := scanWholeLines([]byte(`{"n":3,"ev`), true); !errors.Is(err, errPartialLine) {
		t.Fatalf("a line cut by the stream's end: %v, want errPartialLine", err)
	}
	if adv, tok, err := scanWholeLines(nil, true); adv != 0 || tok != nil || err != nil {
		t.Fatalf("the end between lines: %d %q %v", adv, tok, err)
	}
}

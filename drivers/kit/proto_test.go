package kit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines is an io.Writer that keeps what was written, safe for the
// output's goroutine and the test.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSuffix(l.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type contract struct {
	Term Term `json:"term"`
}

// The line types' JSON: what every driver writes, field for field.
func TestLineJSON(t *testing.T) {
	one := 1
	for _, c := range []struct {
		v    any
		want string
	}{
		{Reply[contract]{Re: 7, OK: true}, `{"re":7,"ok":true}`},
		{Reply[contract]{Re: 8, Error: "not connected"}, `{"re":8,"ok":false,"error":"not connected"}`},
		{Reply[contract]{Re: 9, Contract: &contract{Term{Value: "none", Cite: "x"}}}, `{"re":9,"ok":false,"contract":{"term":{"value":"none","cite":"x"}}}`},
		{Event{Type: "state", From: Connecting, To: Active, Phase: Phase(Active), Native: "cb", Server: "s", Session: "id", Client: &one},
			`{"type":"state","from":"CONNECTING","to":"CONNECTED_ACTIVE","phase":"connected","native":"cb","server":"s","session":"id","client":1}`},
		{Event{Type: "message", Topic: "t", Seq: 3}, `{"type":"message","topic":"t","seq":3}`},
		{Event{Type: "dial", Server: "s", Text: "refused"}, `{"type":"dial","server":"s","text":"refused"}`},
		{Hello[contract]{SDK: "lib", Version: "v1", Protocol: "p", Features: []string{"reconnect"}, Sessions: 4, Contract: &contract{}},
			`{"sdk":"lib","version":"v1","protocol":"p","features":["reconnect"],"sessions":4,"contract":{"term":{"value":"","cite":""}}}`},
		{Hello[contract]{SDK: "lib"}, `{"sdk":"lib","version":"","protocol":"","features":null,"contract":null}`},
		{Unsupported{Option: "o", Reason: "r"}, `{"option":"o","reason":"r"}`},
		{Contract[struct{}]{Delay: Term{Value: "constant", Cite: "c"}}, `{"first_attempt":{"value":"","cite":""},"delay_applies":{"value":"","cite":""},` +
			`"delay":{"value":"constant","cite":"c"},"jitter":{"value":"","cite":""},"reset":{"value":"","cite":""},"attempt_limit":{"value":"","cite":""},` +
			`"failover":{"value":"","cite":""},"shuffle":{"value":"","cite":""},"first_connect":{"value":"","cite":""},"liveness":{"value":"","cite":""},` +
			`"overall_timeout":{"value":"","cite":""},"lame_duck":{"value":"","cite":""},"delivery":{"value":"","cite":""},"buffer":{"value":"","cite":""},` +
			`"discovery":{"value":"","cite":""},"close_error":{"value":"","cite":""}}`},
		{DriverAdd{What: "w", Why: "y"}, `{"what":"w","why":"y"}`},
	} {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("%T: %s %v, want %s", c.v, b, err, c.want)
		}
	}
	b, _ := json.Marshal(Contract[struct {
		N int `json:"n"`
	}]{Params: &struct {
		N int `json:"n"`
	}{N: 1}, Unsupported: []Unsupported{{Option: "o", Reason: "r"}}, DriverAdds: []DriverAdd{{What: "w", Why: "y"}}})
	if !strings.HasSuffix(string(b), `,"params":{"n":1},"unsupported":[{"option":"o","reason":"r"}],"driver_adds":[{"what":"w","why":"y"}]}`) {
		t.Errorf("effective contract %s", b)
	}
	var o Op
	if err := json.Unmarshal([]byte(`{"id":3,"op":"connect","servers":["a"],"options":{"x":1},"topic":"t","payload":[1],"client":2,"driver":5,"seed":9}`), &o); err != nil {
		t.Fatal(err)
	}
	if *o.ID != 3 || o.Op != "connect" || o.Servers[0] != "a" || string(o.Options) != `{"x":1}` || o.Topic != "t" || string(o.Payload) != "[1]" || o.Index() != 2 || o.Driver != 5 || *o.Seed != 9 {
		t.Errorf("op %+v", o)
	}
	if (Op{}).Index() != -1 {
		t.Error("no client: index want -1")
	}
}

// Lines from one goroutine come out in its order, each whole, and Flush
// returns once everything sent before it is written.
func TestOutputOrderAndFlush(t *testing.T) {
	w := &lines{}
	o := NewOutput(w)
	var wg sync.WaitGroup
	const senders, each = 8, 200
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				o.Send(map[string]int{"g": g, "i": i})
			}
		}()
	}
	wg.Wait()
	o.Flush()
	got := w.all()
	if len(got) != senders*each {
		t.Fatalf("%d lines after Flush, want %d", len(got), senders*each)
	}
	next := map[int]int{}
	for _, l := range got {
		var v struct{ G, I int }
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if v.I != next[v.G] {
			t.Fatalf("sender %d: line %d came where %d was due", v.G, v.I, next[v.G])
		}
		next[v.G]++
	}
}

// slowWriter blocks each Write until released.
type slowWriter struct {
	lines
	release chan struct{}
}

func (s *slowWriter) Write(p []byte) (int, error) {
	<-s.release
	return s.lines.Write(p)
}

// Send never waits for the writer; Flush does.
func TestOutputSendDoesNotBlock(t *testing.T) {
	w := &slowWriter{release: make(chan struct{})}
	o := NewOutput(w)
	sent := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			o.Send(i)
		}
		close(sent)
	}()
	select {
	case <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("Send blocked on a stuck writer")
	}
	flushed := make(chan struct{})
	go func() { o.Flush(); close(flushed) }()
	select {
	case <-flushed:
		t.Fatal("Flush returned before the writer wrote")
	case <-time.After(50 * time.Millisecond):
	}
	close(w.release)
	select {
	case <-flushed:
	case <-time.After(5 * time.Second):
		t.Fatal("Flush did not return once the writer wrote")
	}
	if got := w.all(); len(got) != 100 || got[99] != "99" {
		t.Errorf("wrote %d lines, last %q", len(got), got[len(got)-1])
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("gone") }

// A writer that fails (the harness is gone) holds nobody up.
func TestOutputBrokenWriter(t *testing.T) {
	o := NewOutput(brokenWriter{})
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			o.Send(fmt.Sprint(i))
			o.Flush()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Send or Flush blocked on a broken writer")
	}
}

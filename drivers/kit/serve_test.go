package kit

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// handler is a Handler whose ops say what to do: "ok" answers ok, "block"
// waits until release is closed, "hang" never returns; anything else is an
// unknown op.
type handler struct {
	release chan struct{}

	mu     sync.Mutex
	ops    []string
	closes int
}

func newHandler() *handler { return &handler{release: make(chan struct{})} }

func (h *handler) Do(o Op) Reply[contract] {
	h.mu.Lock()
	h.ops = append(h.ops, o.Op)
	h.mu.Unlock()
	switch o.Op {
	case "ok":
		return Reply[contract]{OK: true, Contract: &contract{Term{Value: "v", Cite: "c"}}}
	case "block":
		<-h.release
		return Reply[contract]{OK: true}
	case "hang":
		select {}
	}
	return Reply[contract]{Error: "unknown op " + o.Op}
}

func (h *handler) CloseAll() {
	h.mu.Lock()
	h.closes++
	h.mu.Unlock()
	close(h.release)
}

// served runs serve on a pipe; write feeds it, wait waits for it to return.
type served struct {
	t    *testing.T
	in   *io.PipeWriter
	out  *lines
	done chan struct{}
}

func startServe(t *testing.T, h Handler[contract], exitWait time.Duration) *served {
	t.Helper()
	inR, inW := io.Pipe()
	s := &served{t: t, in: inW, out: &lines{}, done: make(chan struct{})}
	go func() {
		serve(inR, NewOutput(s.out), Hello[contract]{SDK: "test"}, h, exitWait)
		close(s.done)
	}()
	t.Cleanup(func() { inW.Close(); s.wait() })
	return s
}

func (s *served) write(ls ...string) {
	s.t.Helper()
	if _, err := s.in.Write([]byte(strings.Join(ls, "\n") + "\n")); err != nil {
		s.t.Fatal(err)
	}
}

func (s *served) wait() {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatal("serve did not return")
	}
}

// until waits for a line containing sub and returns the lines so far.
func (s *served) until(sub string) []string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ls := s.out.all()
		for _, l := range ls {
			if strings.Contains(l, sub) {
				return ls
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no line with %s in:\n%s", sub, strings.Join(ls, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestServeLines(t *testing.T) {
	h := newHandler()
	s := startServe(t, h, ExitWait)
	long := `{"op":"x","client":4,"pad":"` + strings.Repeat("a", 300) + `"}`
	s.write(
		`{"id":1,"op":"block"}`, // held until the shutdown's CloseAll
		`{"id":2,"op":"probe"}`, // answered at once, from the reader
		``,                      // ignored
		`   `,                   // ignored
		`not json`,
		long,
		`{"id":3,"op":"ok","client":2}`,
		`{"id":4,"op":"frobnicate"}`,
	)
	s.until(`"re":4`)
	s.in.Close() // the end of stdin: the shutdown
	s.wait()
	ls := s.out.all()
	want := []string{
		`{"sdk":"test","version":"","protocol":"","features":null,"contract":null}`,
		`{"re":2,"ok":true}`,
		`{"type":"error","text":"driver: bad op line: invalid character 'o' in literal null (expecting 'u')"}`,
		`{"type":"error","text":"driver: op without an id: ` + strings.ReplaceAll(long[:200], `"`, `\"`) + `","client":4}`,
	}
	for i, w := range want {
		if i >= len(ls) || ls[i] != w {
			t.Fatalf("line %d:\n got %s\nwant %s\nall:\n%s", i, at(ls, i), w, strings.Join(ls, "\n"))
		}
	}
	rest := strings.Join(ls[len(want):], "\n")
	for _, w := range []string{`{"re":3,"ok":true,"contract":{"term":{"value":"v","cite":"c"}}}`, `{"re":4,"ok":false,"error":"unknown op frobnicate"}`} {
		if !strings.Contains(rest, w) {
			t.Errorf("no %s in\n%s", w, rest)
		}
	}
	// The blocked op is answered in the shutdown, after CloseAll released it.
	if last := ls[len(ls)-1]; last != `{"re":1,"ok":true}` {
		t.Errorf("last line %s, want the blocked op's reply", last)
	}
	if len(ls) != len(want)+3 {
		t.Errorf("%d lines:\n%s", len(ls), strings.Join(ls, "\n"))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closes != 1 || len(h.ops) != 3 || containsAny(h.ops, "probe", "exit") {
		t.Errorf("closes %d, ops %v", h.closes, h.ops)
	}
}

func at(ls []string, i int) string {
	if i < len(ls) {
		return ls[i]
	}
	return "(none)"
}

func containsAny(l []string, s ...string) bool {
	for _, x := range l {
		for _, y := range s {
			if x == y {
				return true
			}
		}
	}
	return false
}

// exit is answered ok and ends Serve (stdin still open), after CloseAll.
func TestServeExit(t *testing.T) {
	h := newHandler()
	s := startServe(t, h, ExitWait)
	s.write(`{"id":1,"op":"ok"}`)
	s.until(`"re":1`)
	s.write(`{"id":2,"op":"exit"}`)
	s.wait()
	ls := s.out.all()
	if ls[len(ls)-1] != `{"re":2,"ok":true}` {
		t.Errorf("last line %s, want the exit's reply", ls[len(ls)-1])
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closes != 1 {
		t.Errorf("CloseAll ran %d times", h.closes)
	}
}

// An op after exit (read before the loop stopped) is refused.
func TestOpAfterExit(t *testing.T) {
	h := newHandler()
	out := &lines{}
	s := &server[contract]{out: NewOutput(out), h: h}
	stopped := 0
	s.line([]byte(`{"id":1,"op":"exit"}`), func() { stopped++ })
	s.line([]byte(`{"id":2,"op":"ok"}`), func() { stopped++ })
	s.line([]byte(`{"id":3,"op":"probe"}`), func() { stopped++ })
	s.out.Flush()
	want := []string{`{"re":1,"ok":true}`, `{"re":2,"ok":false,"error":"driver is exiting"}`, `{"re":3,"ok":true}`}
	if got := out.all(); strings.Join(got, "\n") != strings.Join(want, "\n") || stopped != 1 {
		t.Errorf("stopped %d, lines:\n%s", stopped, strings.Join(got, "\n"))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ops) != 0 {
		t.Errorf("the handler got %v", h.ops)
	}
}

// An op that never returns holds the shutdown up to the exit bound only.
func TestServeExitBound(t *testing.T) {
	h := newHandler()
	s := startServe(t, h, 200*time.Millisecond)
	s.write(`{"id":1,"op":"hang"}`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.ops)
		h.mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	s.write(`{"id":2,"op":"exit"}`)
	s.wait()
	if took := time.Since(start); took < 200*time.Millisecond || took > 5*time.Second {
		t.Errorf("shutdown took %v, want the 200ms bound", took)
	}
}

// A line longer than the scanner's limit ends the reading with an error
// event, then the shutdown.
func TestServeLineTooLong(t *testing.T) {
	h := newHandler()
	s := startServe(t, h, ExitWait)
	go s.in.Write([]byte(strings.Repeat("x", 1<<20+10) + "\n"))
	s.wait()
	ls := s.out.all()
	var e Event
	if err := json.Unmarshal([]byte(ls[len(ls)-1]), &e); err != nil || e.Type != "error" || !strings.HasPrefix(e.Text, "driver: reading ops: ") {
		t.Errorf("last line %s", ls[len(ls)-1])
	}
}

package kit

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"
)

// ExitWait bounds the shutdown: the close of every session (together) and
// the replies of the ops still under way.
const ExitWait = 3 * time.Second

// flushWait bounds the last flush of the output on shutdown.
const flushWait = time.Second

// Handler is a driver's side of Serve. C is its contract type.
type Handler[C any] interface {
	// Do handles one op other than probe and exit, on a goroutine of its
	// own: a connect that walks slow servers never holds up other clients'
	// ops or the reader. Serve sets the reply's Re.
	Do(Op) Reply[C]
	// CloseAll closes every session, together, when Serve ends; Serve
	// bounds the wait.
	CloseAll()
}

// Serve writes hello, then handles ops from in until an exit op or the end
// of in; then it closes every session (bounded) and returns.
//
// A line that is not an op, or an op without an id, is an error event (a
// reply needs the op's id). probe is answered at once from the reader
// (the harness's lag probe); exit is answered ok, and every op after it is
// refused ("driver is exiting"). Every other op goes to h.Do on its own
// goroutine.
func Serve[C any](in io.Reader, out *Output, hello any, h Handler[C]) {
	serve(in, out, hello, h, ExitWait)
}

type server[C any] struct {
	out *Output
	h   Handler[C]

	mu      sync.Mutex
	exiting bool
	wg      sync.WaitGroup // ops under way
}

func serve[C any](in io.Reader, out *Output, hello any, h Handler[C], exitWait time.Duration) {
	s := &server[C]{out: out, h: h}
	out.Send(hello)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20+2)
	exit := make(chan struct{})
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		for sc.Scan() {
			b := append([]byte(nil), sc.Bytes()...)
			select {
			case lines <- b:
			case <-exit:
				return
			}
		}
		if err := sc.Err(); err != nil {
			out.Send(Event{Type: "error", Text: "driver: reading ops: " + err.Error()})
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { close(exit) }) }
loop:
	for {
		select {
		case b, ok := <-lines:
			if !ok {
				break loop
			}
			s.line(b, stop)
		case <-exit:
			break loop
		}
	}
	s.shutdown(exitWait)
}

// line parses one op and answers it, or hands it to the handler.
func (s *server[C]) line(b []byte, stop func()) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return
	}
	var o Op
	if err := json.Unmarshal(b, &o); err != nil {
		s.out.Send(Event{Type: "error", Text: "driver: bad op line: " + err.Error()})
		return
	}
	if o.ID == nil {
		// Nothing to reply to: a reply needs the op's id.
		s.out.Send(Event{Type: "error", Text: "driver: op without an id: " + trunc(string(b), 200), Client: o.Client})
		return
	}
	switch o.Op {
	case "probe": // the harness's lag probe: answered at once, from the reader
		s.out.Send(Reply[C]{Re: *o.ID, OK: true})
		return
	case "exit":
		s.mu.Lock()
		s.exiting = true
		s.mu.Unlock()
		s.out.Send(Reply[C]{Re: *o.ID, OK: true})
		stop()
		return
	}
	s.mu.Lock()
	if s.exiting {
		s.mu.Unlock()
		s.out.Send(Reply[C]{Re: *o.ID, OK: false, Error: "driver is exiting"})
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		r := s.h.Do(o)
		r.Re = *o.ID
		s.out.Send(r)
	}()
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// shutdown closes every session together, then waits for the replies of
// the ops still under way (a connect closed so returns at once; a slow one
// is cut off by the bound), and flushes the output (bounded too).
func (s *server[C]) shutdown(exitWait time.Duration) {
	s.mu.Lock()
	s.exiting = true
	s.mu.Unlock()
	opsDone := make(chan struct{})
	go func() {
		s.h.CloseAll()
		s.wg.Wait()
		close(opsDone)
	}()
	select {
	case <-opsDone:
	case <-time.After(exitWait):
	}
	flushed := make(chan struct{})
	go func() { s.out.Flush(); close(flushed) }()
	select {
	case <-flushed:
	case <-time.After(flushWait):
	}
}

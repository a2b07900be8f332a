package kit

import (
	"encoding/json"
	"io"
	"sync"
)

// Op is one harness → driver line (docs/driver-protocol.md).
type Op struct {
	ID      *int64          `json:"id"`
	Op      string          `json:"op"`
	Servers []string        `json:"servers,omitempty"`
	Options json.RawMessage `json:"options,omitempty"`
	Topic   string          `json:"topic,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Client  *int            `json:"client,omitempty"`
	Driver  int64           `json:"driver,omitempty"`
	Seed    *int64          `json:"seed,omitempty"`
}

// Index is the op's client index: -1 for the default session (no client).
func (o Op) Index() int {
	if o.Client != nil {
		return *o.Client
	}
	return -1
}

// Reply answers one op. C is the driver's contract type.
type Reply[C any] struct {
	Re       int64  `json:"re"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
	Contract *C     `json:"contract,omitempty"` // connect: the effective contract
}

// Event is one driver → harness event line. Empty fields are left out.
type Event struct {
	Type    string   `json:"type"`
	From    string   `json:"from,omitempty"`
	To      string   `json:"to,omitempty"`
	Phase   string   `json:"phase,omitempty"`
	Native  string   `json:"native,omitempty"`
	Server  string   `json:"server,omitempty"`
	Session string   `json:"session,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Tried   []string `json:"tried,omitempty"`
	Topic   string   `json:"topic,omitempty"`
	Seq     int64    `json:"seq,omitempty"`
	// Text is an error event's text, and a dial event's failure.
	Text   string `json:"text,omitempty"`
	Client *int   `json:"client,omitempty"`
}

// Hello is the driver's first line. C is the driver's contract type.
type Hello[C any] struct {
	SDK      string   `json:"sdk"`
	Version  string   `json:"version"`
	Protocol string   `json:"protocol"`
	Features []string `json:"features"`
	Sessions int      `json:"sessions,omitempty"`
	Contract *C       `json:"contract"`
}

// Output serializes every line to the harness. Lines are queued and written
// by one goroutine, so no caller (the stdin reader, a library's callback
// goroutines, a subscription's handler) ever blocks on a slow stdout; each
// batch is one Write to an unbuffered file, so nothing waits in a buffer.
type Output struct {
	w io.Writer

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []byte
	writing bool
	broken  bool
}

// NewOutput starts the goroutine writing to w.
func NewOutput(w io.Writer) *Output {
	o := &Output{w: w}
	o.cond = sync.NewCond(&o.mu)
	go o.loop()
	return o
}

// Send queues one JSON line.
func (o *Output) Send(v any) {
	b, err := json.Marshal(v)
	if err != nil { // plain data: cannot happen
		return
	}
	o.mu.Lock()
	o.queue = append(o.queue, b...)
	o.queue = append(o.queue, '\n')
	o.cond.Broadcast()
	o.mu.Unlock()
}

func (o *Output) loop() {
	for {
		o.mu.Lock()
		for len(o.queue) == 0 {
			o.cond.Wait()
		}
		batch := o.queue
		o.queue = nil
		o.writing = true
		o.mu.Unlock()
		_, err := o.w.Write(batch)
		o.mu.Lock()
		o.writing = false
		if err != nil {
			o.broken = true // the harness is gone; keep draining so nobody waits
		}
		o.cond.Broadcast()
		o.mu.Unlock()
	}
}

// Flush waits until everything queued so far is written.
func (o *Output) Flush() {
	o.mu.Lock()
	for len(o.queue) > 0 || o.writing {
		o.cond.Wait()
	}
	o.mu.Unlock()
}

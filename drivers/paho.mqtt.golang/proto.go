package main

import (
	"encoding/json"
	"io"
	"sync"
)

// op is one harness → driver line (docs/driver-protocol.md).
type op struct {
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

// reply answers one op.
type reply struct {
	Re       int64     `json:"re"`
	OK       bool      `json:"ok"`
	Error    string    `json:"error,omitempty"`
	Contract *Contract `json:"contract,omitempty"` // connect: the effective contract
}

// event is one driver → harness event line. Empty fields are left out.
type event struct {
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

// hello is the driver's first line.
type hello struct {
	SDK      string    `json:"sdk"`
	Version  string    `json:"version"`
	Protocol string    `json:"protocol"`
	Features []string  `json:"features"`
	Sessions int       `json:"sessions,omitempty"`
	Contract *Contract `json:"contract"`
}

// output serializes every line to the harness. Lines are queued and written
// by one goroutine, so no caller (the stdin reader, nats.go's callback
// dispatcher, a subscription's handler) ever blocks on a slow stdout; each
// batch is one Write to an unbuffered file, so nothing waits in a buffer.
type output struct {
	w io.Writer

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []byte
	writing bool
	broken  bool
}

func newOutput(w io.Writer) *output {
	o := &output{w: w}
	o.cond = sync.NewCond(&o.mu)
	go o.loop()
	return o
}

// send queues one JSON line.
func (o *output) send(v any) {
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

func (o *output) loop() {
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

// flush waits until everything queued so far is written.
func (o *output) flush() {
	o.mu.Lock()
	for len(o.queue) > 0 || o.writing {
		o.cond.Wait()
	}
	o.mu.Unlock()
}

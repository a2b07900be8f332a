// Package outbox is the write side the packs' fake servers share: a
// connection's bounded queue of frames to its one writer goroutine, and the
// writer's batch write, which records each frame's event just before the
// frame is handed to the socket (so a deliver means "written", not
// "meant to be").
package outbox

import (
	"sync"
	"sync/atomic"

	"github.com/faultline/faultline/harness/history"
)

// Item is one frame for the writer.
type Item struct {
	Data  []byte
	Event *history.Event // recorded just before the write
	// Written, when set, is marked just before the write (an MQTT QoS 1
	// message: what a broker must redeliver with DUP).
	Written *atomic.Bool
	Last    bool // close the connection once this is written
}

// Result says what became of a frame.
type Result int

const (
	Pushed  Result = iota
	Closing        // the connection is closing: the frame is dropped, as it would be
	Full           // the bound is exceeded: the client is a slow consumer
)

// Queue is a connection's queue to its writer, bounded in bytes so that a
// client that stops reading holds at most that much of the server's memory,
// and never blocks whoever queues (a publisher serving others).
type Queue struct {
	mu     sync.Mutex
	items  []Item
	bytes  int
	limit  int
	intent string // the reason of the close under way (set by Terminate)
	shut   bool   // closed: nothing more is taken
	ready  chan struct{}
	spare  []Item // the writer's last batch, reused
}

// New is a queue holding at most limit bytes.
func New(limit int) *Queue {
	return &Queue{limit: limit, ready: make(chan struct{}, 1)}
}

// Ready is signalled when there is something to take.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Push queues a frame.
func (q *Queue) Push(it Item) Result {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut || q.intent != "" {
		return Closing
	}
	if q.bytes+len(it.Data) > q.limit {
		return Full
	}
	q.items = append(q.items, it)
	q.bytes += len(it.Data)
	q.signal()
	return Pushed
}

// Terminate queues the last frame (possibly empty) past the bound and
// records why the connection is closing; false if a close is already under
// way, whose reason stands.
func (q *Queue) Terminate(reason string, data []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut || q.intent != "" {
		return false
	}
	q.intent = reason
	q.items = append(q.items, Item{Data: data, Last: true})
	q.signal()
	return true
}

// Closing says whether a close is under way or done.
func (q *Queue) Closing() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shut || q.intent != ""
}

// Take hands the writer everything queued.
func (q *Queue) Take() []Item {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	clear(q.spare) // the frames of the batch before: let them go
	q.items = q.spare[:0]
	q.spare = items
	q.bytes = 0
	return items
}

// Close marks the queue shut and returns the reason of the close that was
// under way, if any.
func (q *Queue) Close() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shut = true
	q.items = nil
	return q.intent
}

func (q *Queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

package fake

import (
	"sync"

	"github.com/faultline/faultline/harness/history"
)

// outItem is one frame for the writer, and the event to record just before
// it is written (deliver, so that it means handed to the socket).
type outItem struct {
	data []byte
	ev   *history.Event
	msg  *pmsg // a session's QoS 1 message: marked written just before the write
	last bool  // close the connection once this is written
}

// pushResult says what became of a frame.
type pushResult int

const (
	pushed  pushResult = iota
	closing            // the connection is closing: the frame is dropped, as it would be
	full               // MaxPending exceeded: the client is a slow consumer
)

// outbox is a connection's queue to its writer, bounded in bytes so that a
// client that stops reading holds at most MaxPending of the server's
// memory, and never blocks whoever queues (a publisher serving others).
type outbox struct {
	mu     sync.Mutex
	items  []outItem
	bytes  int
	limit  int
	intent string // the reason of the close under way (set by terminate)
	shut   bool   // closed: nothing more is taken
	ready  chan struct{}
	spare  []outItem // the writer's last batch, reused
}

func newOutbox(limit int) *outbox {
	return &outbox{limit: limit, ready: make(chan struct{}, 1)}
}

func (q *outbox) push(it outItem) pushResult {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut || q.intent != "" {
		return closing
	}
	if q.bytes+len(it.data) > q.limit {
		return full
	}
	q.items = append(q.items, it)
	q.bytes += len(it.data)
	q.signal()
	return pushed
}

// terminate queues the last frame (possibly empty) past the bound and
// records why the connection is closing; false if a close is already under
// way, whose reason stands.
func (q *outbox) terminate(reason string, data []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut || q.intent != "" {
		return false
	}
	q.intent = reason
	q.items = append(q.items, outItem{data: data, last: true})
	q.signal()
	return true
}

// closing says whether a close is under way or done.
func (q *outbox) closing() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shut || q.intent != ""
}

// take hands the writer everything queued.
func (q *outbox) take() []outItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	clear(q.spare) // the frames of the batch before: let them go
	q.items = q.spare[:0]
	q.spare = items
	q.bytes = 0
	return items
}

// close marks the outbox shut and returns the reason of the close that was
// under way, if any.
func (q *outbox) close() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shut = true
	q.items = nil
	return q.intent
}

func (q *outbox) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

package server

import (
	"encoding/json"
	"sync"

	"github.com/faultline/faultline/harness/history"
)

// subscriber is one Subscribe stream: the seqs published on its topic since
// it began, queued for its handler (a publisher never waits for a client).
type subscriber struct {
	c     *conn
	topic string
	max   int
	ready chan struct{} // signalled when there is something to take

	mu   sync.Mutex
	q    []int64
	over bool // more than max were pending: the stream ends
}

func (b *subscriber) push(seq int64) {
	b.mu.Lock()
	if len(b.q) >= b.max {
		b.over = true
	} else {
		b.q = append(b.q, seq)
	}
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// take empties the queue.
func (b *subscriber) take() (seqs []int64, over bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seqs, b.q = b.q, nil
	return seqs, b.over
}

// subscribe registers a Subscribe stream and records subscribe; false when
// the connection is closing. Both under pubMu, so a publish recorded after
// the subscribe reaches it.
func (s *Server) subscribe(c *conn, topic string) (*subscriber, bool) {
	b := &subscriber{c: c, topic: topic, max: s.opts.MaxPending, ready: make(chan struct{}, 1)}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if !c.record(history.Event{Kind: history.KindSubscribe, Topic: topic}) {
		return nil, false
	}
	if s.subs[topic] == nil {
		s.subs[topic] = map[*subscriber]bool{}
	}
	s.subs[topic][b] = true
	return b, true
}

func (s *Server) unsubscribe(b *subscriber) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	delete(s.subs[b.topic], b)
	if len(s.subs[b.topic]) == 0 {
		delete(s.subs, b.topic)
	}
}

// Publish puts a message on topic: publish is recorded with the topic's
// next seq (1, 2, … per topic per start of the server), and every Subscribe
// stream on the topic is sent the seq (deliver is recorded as each is
// handed to grpc-go). The data is not sent: the seq is the message. It
// returns the seq, or 0 once the server is closed.
func (s *Server) Publish(topic string, _ json.RawMessage) int64 {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return 0
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.seq[topic]++
	seq := s.seq[topic]
	s.record(history.Event{Kind: history.KindPublish, Topic: topic, Seq: seq})
	for b := range s.subs[topic] {
		b.push(seq)
	}
	return seq
}

package check

import (
	"fmt"
	"sort"

	"github.com/faultline/faultline/harness/history"
)

// topicStream is what one client session should have received on a topic:
// what the server published on the session's server after the session
// subscribed, and what the client reported receiving while it held the
// session.
type topicStream struct {
	Client  int
	Session string
	Topic   string
	Sub     *history.Event  // the server's subscribe (nil: never subscribed)
	Pubs    []history.Event // server publish on Sub.Server/Topic after Sub
	Msgs    []history.Event // client message events on Topic in the session's span
}

func (v *commandView) stream(c int, session, topic string) topicStream {
	s := topicStream{Client: c, Session: session, Topic: topic}
	for _, e := range v.bySess[session] {
		if e.Kind == history.KindSubscribe && e.Topic == topic {
			e := e
			s.Sub = &e
			break
		}
	}
	if s.Sub != nil {
		for _, e := range v.h {
			if e.Kind == history.KindPublish && e.Server == s.Sub.Server && e.Topic == topic && e.T > s.Sub.T {
				s.Pubs = append(s.Pubs, e)
			}
		}
	}
	from, to := v.sv.sessionSpan(c, session)
	for _, e := range v.h {
		if e.Kind == history.KindMessage && e.Source == history.SrcClient && e.Client == c && e.Topic == topic && e.T >= from && (e.T < to || to == v.end) {
			s.Msgs = append(s.Msgs, e)
		}
	}
	return s
}

// subscribedStreams is every client session's stream on topic that the
// servers saw subscribe; a session that reports messages on the topic
// without a subscribe the servers saw fails j (a claim with no evidence).
func (v *commandView) subscribedStreams(clients []int, topic string, j *judge) []topicStream {
	var out []topicStream
	for _, cl := range clients {
		for _, sess := range v.sv.of(cl) {
			s := v.stream(cl, sess, topic)
			if s.Sub == nil {
				if len(s.Msgs) > 0 {
					j.fail(s.Msgs[0].T, "client %d reports %d message(s) on %q in session %q, but the server never saw that session subscribe", cl, len(s.Msgs), topic, sess)
				}
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

// first is the seq the client should start at: the first publish after the
// subscribe (else, without publishes, the first it received).
func (s topicStream) first() int64 {
	if len(s.Pubs) > 0 {
		return s.Pubs[0].Seq
	}
	if len(s.Msgs) > 0 {
		return s.Msgs[0].Seq
	}
	return 1
}

// clientTopics are the topics a client reported messages on, sorted.
func (v *commandView) clientTopics(c int) []string {
	seen := map[string]bool{}
	for _, e := range v.h {
		if e.Kind == history.KindMessage && e.Source == history.SrcClient && e.Client == c {
			seen[e.Topic] = true
		}
	}
	var out []string
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// hole is a run of seqs From..To the client never received, noticed at Next
// (the first message past the hole) after Prev (the message before it, nil
// when the hole is at the start).
type hole struct {
	From, To int64
	Prev     *history.Event
	Next     history.Event
}

func (h hole) String() string {
	if h.From == h.To {
		return fmt.Sprintf("seq %d", h.From)
	}
	return fmt.Sprintf("seqs %d..%d", h.From, h.To)
}

// seqWalk is the received sequence judged against consecutive numbering.
type seqWalk struct {
	Received   int
	Dups       []history.Event
	OutOfOrder []history.Event
	Holes      []hole
	MaxSeen    int64
	Missing    int64
}

// walkSeqs checks msgs (in arrival order) for duplicates, seqs below one
// already passed (out of order) and holes between first and the highest seq
// received (holes later filled are out of order, not missing).
func walkSeqs(first int64, msgs []history.Event) seqWalk {
	w := seqWalk{MaxSeen: first - 1}
	seen := map[int64]bool{}
	for _, m := range msgs {
		if seen[m.Seq] {
			w.Dups = append(w.Dups, m)
			continue
		}
		seen[m.Seq] = true
		w.Received++
		if m.Seq < w.MaxSeen {
			w.OutOfOrder = append(w.OutOfOrder, m)
		}
		if m.Seq > w.MaxSeen {
			w.MaxSeen = m.Seq
		}
	}
	for s := first; s <= w.MaxSeen; s++ {
		if seen[s] {
			continue
		}
		e := s
		for e+1 <= w.MaxSeen && !seen[e+1] {
			e++
		}
		h := hole{From: s, To: e}
		for i, m := range msgs {
			if m.Seq > e {
				h.Next = m
				if i > 0 {
					p := msgs[i-1]
					h.Prev = &p
				}
				break
			}
		}
		w.Holes = append(w.Holes, h)
		w.Missing += e - s + 1
		s = e
	}
	return w
}

package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "exactly_once_in_order", Judges: []string{"R3"}, New: func() Checker { return &ExactlyOnceInOrder{} }})
}

// ExactlyOnceInOrder judges R3 (server → client): each client session gets
// every message published on the topic after it subscribed, exactly once and
// in order, each one delivered by the server before the client reports it.
type ExactlyOnceInOrder struct {
	// Topic is the topic to judge (required).
	Topic string `yaml:"topic"`
}

// Validate checks the parameters.
func (c *ExactlyOnceInOrder) Validate() error {
	if c.Topic == "" {
		return errors.New("topic is required")
	}
	return nil
}

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge when no client session subscribed to the topic.
func (c *ExactlyOnceInOrder) ValidateFor(sc *scenario.Scenario) error {
	return needSubscribe(sc, c.Topic)
}

// Check implements Checker.
func (c *ExactlyOnceInOrder) Check(in Input) Result { return onView(in, c, c.check) }

func (c *ExactlyOnceInOrder) check(v *view) Result {
	// Server deliveries per session|seq on the topic: the first one, and counts.
	type key struct {
		session string
		seq     int64
	}
	delivered := map[key]history.Event{}
	live, replayed := 0, 0
	for _, e := range v.h {
		if e.Kind != history.KindDeliver || e.Topic != c.Topic {
			continue
		}
		if e.Attr("replay") == "true" {
			replayed++
		} else {
			live++
		}
		k := key{e.Session, e.Seq}
		if _, ok := delivered[k]; !ok {
			delivered[k] = e
		}
	}
	var j judge
	streams, published, received, dups, gaps := 0, 0, 0, 0, int64(0)
	last := time.Duration(0)
	for _, s := range v.commands().subscribedStreams(v.clients, c.Topic, &j) {
		cl, sess := s.Client, s.Session
		lastSt, _ := v.client().lastState(cl)
		streams++
		published += len(s.Pubs)
		received += len(s.Msgs)
		first := s.first()
		w := walkSeqs(first, s.Msgs)
		dups += len(w.Dups)
		gaps += w.Missing
		who := fmt.Sprintf("client %d session %q topic %q", cl, sess, c.Topic)
		for _, m := range w.Dups {
			j.fail(m.T, "%s: duplicated message seq %d at %s", who, m.Seq, dur(m.T))
		}
		for _, m := range w.OutOfOrder {
			j.fail(m.T, "%s: seq %d out of order at %s (after a higher seq)", who, m.Seq, dur(m.T))
		}
		for _, h := range w.Holes {
			after := "at the start"
			if h.Prev != nil {
				after = fmt.Sprintf("after seq %d", h.Prev.Seq)
			}
			j.fail(h.Next.T, "%s: gap: %s missing (client got seq %d %s at %s; first expected seq %d, the first published after the server's subscribe at %s)", who, h, h.Next.Seq, after, dur(h.Next.T), first, dur(s.Sub.T))
		}
		for _, m := range s.Msgs {
			d, ok := delivered[key{sess, m.Seq}]
			switch {
			case !ok:
				j.fail(m.T, "%s: client reports seq %d the server never delivered (message at %s)", who, m.Seq, dur(m.T))
			case d.T > m.T+v.slack:
				j.fail(m.T, "%s: client reports seq %d at %s before the server delivered it at %s", who, m.Seq, dur(m.T), dur(d.T))
			}
			if m.T > last {
				last = m.T
			}
		}
		open := lastSt.To == driver.ConnectedActive && lastSt.Session == sess
		if open && len(s.Pubs) > 0 {
			lastPub := s.Pubs[len(s.Pubs)-1]
			if w.MaxSeen < lastPub.Seq {
				missing := lastPub.Seq - w.MaxSeen
				gaps += missing
				j.fail(v.end, "%s: session still open at the end (%s) but the client's last seq is %d; the server published up to seq %d at %s (seqs %d..%d never arrived)", who, dur(v.end), w.MaxSeen, lastPub.Seq, dur(lastPub.T), w.MaxSeen+1, lastPub.Seq)
			}
		}
	}
	j.count("published", published, "server publish on the session's server and topic after its subscribe, summed over sessions")
	j.count("delivered live", live, "server deliver without replay")
	j.count("replayed", replayed, "server deliver with replay=true")
	j.count("received by client", received, "client message events (client-reported)")
	j.count("duplicates", dups, "client message with a seq it already had")
	j.measure("gaps", float64(gaps), "count", "seqs published after the subscribe that the client never reported", "0")
	if streams == 0 {
		return j.inconclusive(v.end, "nothing to judge: no client session subscribed to %q (no server subscribe event for a client's session)", c.Topic)
	}
	if published == 0 && !j.failed() {
		return j.inconclusive(v.end, "nothing to judge: nothing was published on %q after a session subscribed", c.Topic)
	}
	if received == 0 && !j.failed() {
		// Each session ended before anything reached it: nothing was
		// delivered, so nothing shows once-and-in-order.
		return j.inconclusive(v.end, "nothing to judge: %d message(s) published on %q after a subscribe, none received by a client session (each ended before any arrived)", published, c.Topic)
	}
	return j.result(last, "%d session(s) received %d message(s) on %q exactly once and in order, each delivered by the server", streams, received, c.Topic)
}

package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

func init() {
	Register(Spec{Name: "at_least_once", Judges: []string{"R3"}, New: func() Checker { return &AtLeastOnce{} }})
}

// AtLeastOnce judges R3 under an at-least-once contract (server → client,
// MQTT QoS 1 with a kept session): every message the server published on
// the topic after a client session subscribed reaches the client at least
// once, across losses of the connection. A repeat is no fault under this
// contract, but every receipt must be backed by a server delivery of that
// message to the session, and a repeat by a second one (a redelivery). A
// library whose effective contract promises no more than at most once has
// its losses reported (INFORMATIONAL), not failed.
type AtLeastOnce struct {
	// Topic is the topic to judge (required).
	Topic string `yaml:"topic"`
	// Settle: a message published within this long of the history's end is
	// not yet owed (default 1s).
	Settle *time.Duration `yaml:"settle"`
}

// DefaultSettle is at_least_once's default settle.
const DefaultSettle = time.Second

// Validate checks the parameters.
func (c *AtLeastOnce) Validate() error {
	if c.Topic == "" {
		return errors.New("topic is required")
	}
	return nonNegative("settle", or(c.Settle, 0))
}

// ValidateFor implements scenario.ScenarioValidator: check has nothing to
// judge when no client session subscribed to the topic.
func (c *AtLeastOnce) ValidateFor(sc *scenario.Scenario) error {
	return needSubscribe(sc, c.Topic)
}

// Check implements Checker.
func (c *AtLeastOnce) Check(in Input) Result { return onView(in, c, c.check) }

func (c *AtLeastOnce) check(v *view) Result {
	var j judge
	var info []string
	why := "" // the contract's delivery term behind an INFORMATIONAL
	settle := or(c.Settle, DefaultSettle)
	owedUntil := v.end - settle
	streams, owed, received, repeats, redelivered, lost := 0, 0, 0, 0, 0, 0
	last := time.Duration(0)
	for _, s := range v.commands().subscribedStreams(v.clients, c.Topic, &j) {
		cl, sess := s.Client, s.Session
		streams++
		who := fmt.Sprintf("client %d session %q topic %q", cl, sess, c.Topic)
		ct := v.client().contract(cl, s.Sub.T)
		promised := ct == nil && v.sc.Client.Delivery == deliveryAtLeastOnce ||
			ct.Value(termDelivery) == deliveryAtLeastOnce || ct.Value(termDelivery) == deliveryExactlyOnce
		deliveries := map[int64][]history.Event{}
		for _, e := range v.bySess[sess] {
			if e.Kind == history.KindDeliver && e.Topic == c.Topic {
				deliveries[e.Seq] = append(deliveries[e.Seq], e)
			}
		}
		got := map[int64]int{}
		for _, m := range s.Msgs {
			received++
			got[m.Seq]++
			last = max(last, m.T)
			ds := deliveries[m.Seq]
			n := 0 // server deliveries of it stamped by the claim
			for _, d := range ds {
				if d.T <= m.T+v.slack {
					n++
				}
			}
			switch {
			case len(ds) == 0:
				j.fail(m.T, "%s: client reports seq %d at %s, which the server never delivered to the session", who, m.Seq, dur(m.T))
			case n == 0:
				j.fail(m.T, "%s: client reports seq %d at %s before the server delivered it at %s", who, m.Seq, dur(m.T), dur(ds[0].T))
			case got[m.Seq] > 1:
				repeats++
				if n < got[m.Seq] {
					j.fail(m.T, "%s: client reports seq %d for the %d-th time at %s, but the server delivered it only %d time(s) by then: a repeat the server did not send", who, m.Seq, got[m.Seq], dur(m.T), n)
				}
			}
		}
		for _, ds := range deliveries {
			if len(ds) > 1 {
				redelivered++
			}
		}
		for _, p := range s.Pubs {
			if p.T > owedUntil {
				continue
			}
			owed++
			if got[p.Seq] > 0 {
				continue
			}
			lost++
			what := fmt.Sprintf("%s: seq %d published by server %s at %s never reached the client (%d server deliveries of it)", who, p.Seq, p.Server, dur(p.T), len(deliveries[p.Seq]))
			if promised {
				j.fail(p.T, "%s; %s", what, ct.Says(termDelivery))
			} else {
				info = append(info, what)
				why = ct.Says(termDelivery)
			}
		}
	}
	j.count("owed", owed, fmt.Sprintf("server publish on the topic after the session's subscribe, more than settle %s before the end", dur(settle)))
	j.count("received by client", received, "client message events (client-reported), each backed by a server deliver")
	j.count("repeats", repeats, "client messages with a seq it already had (allowed at least once, when the server redelivered)")
	j.count("redelivered by server", redelivered, "seqs the server delivered to the session more than once")
	j.count("lost", lost, "owed seqs the client never reported")
	if streams == 0 {
		return j.inconclusive(v.end, "nothing to judge: no client session subscribed to %q (server subscribe)", c.Topic)
	}
	if owed == 0 && !j.failed() {
		return j.inconclusive(v.end, "nothing to judge: no message published on %q after a subscribe and more than settle %s before the end", c.Topic, dur(settle))
	}
	if !j.failed() && len(info) > 0 {
		return j.informational(last, list(info)+"; not promised: "+why)
	}
	return j.result(last, "all %d owed message(s) reached the client at least once (%d repeat(s), each a server redelivery)", owed, repeats)
}

package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "no_silent_loss", Judges: []string{"R3"}, New: func() Checker { return &NoSilentLoss{} }})
}

// NoSilentLoss judges R3 (never a silent loss): when the server could not
// cover a session's gap (session.lost) or the client's received seqs have a
// hole, the client closes CLOSED_FAILED (lost_messages) and never goes on
// CONNECTED_ACTIVE with the hole.
type NoSilentLoss struct {
	// ExpectLoss: unset or true, a run without any loss has nothing to judge
	// (FAILED); false certifies that nothing was lost and the client never
	// closed with lost_messages.
	ExpectLoss *bool `yaml:"expect_loss"`
}

func (c *NoSilentLoss) expectLoss() bool { return c.ExpectLoss == nil || *c.ExpectLoss }

// Check implements Checker.
func (c *NoSilentLoss) Check(in Input) Result { return onView(in, c, c.check) }

func (c *NoSilentLoss) check(v *view) Result {
	var j judge
	situations, lostEvs, holes, lmCloses, received := 0, 0, 0, 0, 0
	last := time.Duration(0)
	for _, cl := range v.clients {
		lm, closedLM := v.client().closedLostMessages(cl)
		if closedLM {
			lmCloses++
		}
		who := fmt.Sprintf("client %d", cl)
		before := situations
		for _, sess := range v.sessions().of(cl) {
			// Server side: the recovery buffer could not cover the gap.
			for _, l := range v.sessions().sessEvents(sess, history.KindSessionLost, 0, v.end) {
				situations++
				lostEvs++
				if a, ok := v.client().activeAfter(cl, l.T); ok {
					j.fail(a.T, "%s went on CONNECTED_ACTIVE at %s after server %s refused session %q for lost messages (session.lost at %s): resumed silently", who, dur(a.T), l.Server, sess, dur(l.T))
					continue
				}
				if !closedLM || lm.T < l.T-v.slack {
					j.fail(l.T, "server %s recorded session.lost for %q at %s but %s never closed CLOSED_FAILED (lost_messages) after it (%s)", l.Server, sess, dur(l.T), who, v.client().lastStateText(cl))
					continue
				}
				j.measureMs(fmt.Sprintf("%s session %q: close after loss", who, sess), lm.T-l.T, "client CLOSED_FAILED (lost_messages) − server session.lost", "")
				if lm.T > last {
					last = lm.T
				}
			}
			// Client side: holes in what it received.
			for _, topic := range v.commands().clientTopics(cl) {
				s := v.commands().stream(cl, sess, topic)
				if len(s.Msgs) == 0 {
					continue
				}
				if s.Sub != nil && len(s.Pubs) > 0 {
					received += len(s.Msgs) // on a subscription the server confirms, of messages it published
				}
				for _, h := range walkSeqs(s.first(), s.Msgs).Holes {
					situations++
					holes++
					where := fmt.Sprintf("%s session %q topic %q: %s missing (got seq %d at %s)", who, sess, topic, h, h.Next.Seq, dur(h.Next.T))
					since := time.Duration(0)
					if h.Prev != nil {
						since = h.Prev.T
					}
					if a, ok := v.client().activeAfter(cl, since); ok && a.T <= h.Next.T && h.Prev != nil {
						j.fail(a.T, "%s resumed CONNECTED_ACTIVE at %s with a hole: %s", who, dur(a.T), where)
						continue
					}
					if a, ok := v.client().activeAfter(cl, h.Next.T); ok {
						j.fail(a.T, "%s went on CONNECTED_ACTIVE at %s after a hole: %s", who, dur(a.T), where)
						continue
					}
					if !closedLM || lm.T < h.Next.T {
						j.fail(h.Next.T, "silent loss: %s, and the client never closed CLOSED_FAILED (lost_messages) after it (%s)", where, v.client().lastStateText(cl))
						continue
					}
					if lm.T > last {
						last = lm.T
					}
				}
			}
		}
		if closedLM && !c.expectLoss() && situations == before {
			j.fail(lm.T, "%s closed CLOSED_FAILED (lost_messages) at %s though nothing was lost (expect_loss: false)", who, dur(lm.T))
		}
	}
	j.count("session.lost", lostEvs, "server session.lost for a client's session")
	j.count("holes", holes, "runs of seqs missing from a client's received messages (client-reported) against the server's publishes")
	j.count("lost_messages closes", lmCloses, "client CLOSED_FAILED reason lost_messages (client-reported)")
	j.count("messages received", received, "client message events on subscriptions the server recorded, of topics it published on")
	if situations == 0 && !j.failed() {
		if c.expectLoss() {
			if lmCloses > 0 {
				return j.inconclusive(v.end, "nothing to judge: a client closed with lost_messages, but the server recorded no session.lost and no client's received seqs have a gap")
			}
			return j.inconclusive(v.end, "nothing to judge: no session.lost and no gap in any client's received seqs (set expect_loss: false to certify that nothing was lost)")
		}
		if received == 0 {
			// Nothing lost of nothing sent proves nothing: a driver that
			// never connected would pass.
			return j.inconclusive(v.end, "nothing to judge: no client received a message the server published on a subscription it recorded (expect_loss: false certifies that messages flowed and none was lost)")
		}
		return Pass(v.end, j.ms, "nothing was lost: %d message(s) received, no session.lost, no gap, no lost_messages close", received)
	}
	return j.result(last, "%d loss situation(s), each closed CLOSED_FAILED (lost_messages) without resuming", situations)
}

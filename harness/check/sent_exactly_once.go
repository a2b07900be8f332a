package check

import (
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "sent_exactly_once", Judges: []string{"R3"}, New: func() Checker { return &SentExactlyOnce{} }})
}

// SentExactlyOnce judges R3 (client → server): every send the driver
// acknowledged reaches the server exactly once and in order (n = 1..N), the
// client resending from its recovery buffer what the server had not received.
type SentExactlyOnce struct{}

// Check implements Checker.
func (c *SentExactlyOnce) Check(in Input) Result { return onView(in, c, c.check) }

func (c *SentExactlyOnce) check(v *view) Result {
	var j judge
	totalAcked, totalRecv, totalDup, totalLost := 0, 0, 0, 0
	last := time.Duration(0)
	for _, cl := range v.clients {
		acked := 0
		for _, op := range v.completions()[cl] {
			if op.Op.Op == driver.OpSend && op.ok() {
				acked++
				last = max(last, op.Reply.T)
			}
		}
		sessions := map[string]bool{}
		for _, s := range v.sessions().of(cl) {
			sessions[s] = true
		}
		seen := map[int64]bool{}
		var maxSeen int64
		for _, e := range v.h {
			if e.Kind != history.KindReceive || !sessions[e.Session] {
				continue
			}
			if e.T > last {
				last = e.T
			}
			if e.Attr("dup") == "true" || seen[e.Seq] {
				totalDup++
				j.warn(e.T, "client %d: the server received send n=%d again at %s (a duplicate resend, session %q)", cl, e.Seq, dur(e.T), e.Session)
				continue
			}
			seen[e.Seq] = true
			totalRecv++
			if e.Seq < maxSeen {
				j.fail(e.T, "client %d: the server received send n=%d at %s after n=%d (out of order)", cl, e.Seq, dur(e.T), maxSeen)
			}
			if e.Seq > maxSeen {
				maxSeen = e.Seq
			}
			if e.Seq > int64(acked) {
				j.warn(e.T, "client %d: the server received send n=%d at %s, beyond the %d send(s) the driver acknowledged", cl, e.Seq, dur(e.T), acked)
			}
		}
		totalAcked += acked
		var lost []int64
		for n := int64(1); n <= int64(acked); n++ {
			if !seen[n] {
				lost = append(lost, n)
			}
		}
		if len(lost) == 0 {
			continue
		}
		totalLost += len(lost)
		if lm, ok := v.client().closedLostMessages(cl); ok {
			j.note("client %d: %d send(s) never reached the server, declared by its CLOSED_FAILED (lost_messages) at %s (client-reported)", cl, len(lost), dur(lm.T))
			continue
		}
		if sc, ok := v.sessions().serverClosedLost(v.sessions().of(cl)); ok {
			j.note("client %d: %d send(s) never reached the server, declared by server %s %s (lost_messages) at %s", cl, len(lost), sc.Server, sc.Kind, dur(sc.T))
			continue
		}
		j.fail(v.end, "client %d: lost send: the driver acknowledged send n=%d (of %d) but the server never received it, and the session did not close with lost_messages (%d lost)", cl, lost[0], acked, len(lost))
	}
	j.count("acknowledged sends", totalAcked, "harness reply op=send ok=true")
	j.count("received", totalRecv, "server receive without dup, distinct n")
	j.count("duplicates", totalDup, "server receive with dup=true (or n seen before)")
	j.count("lost", totalLost, "acknowledged n with no server receive")
	if totalAcked == 0 && totalRecv == 0 {
		return j.inconclusive(v.end, "nothing to judge: the driver acknowledged no send (no reply op=send ok=true)")
	}
	if totalRecv == 0 && !j.failed() {
		// Every acknowledged send was declared lost: the declaration is
		// no_silent_loss's to judge; nothing here arrived to be counted.
		return j.inconclusive(v.end, "nothing to judge: %d acknowledged send(s), none received by a server (each declared lost)", totalAcked)
	}
	return j.result(last, "%d acknowledged send(s) reached the server exactly once and in order", totalAcked)
}

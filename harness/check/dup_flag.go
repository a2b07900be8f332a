package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "dup_flag", Judges: []string{"R3"}, New: func() Checker { return &DupFlag{} }})
}

// The rules dup_flag holds a client's PUBLISH packets to: MQTT 3.1.1's own
// text, the protocol contract every MQTT library declares it speaks.
const (
	specDupRedeliver = "MQTT 3.1.1 §3.3.1.1: \"The DUP flag MUST be set to 1 by the Client or Server when it attempts to re-deliver a PUBLISH Packet\" [MQTT-3.3.1-1]"
	specDupQoS0      = "MQTT 3.1.1 §3.3.1.1: \"The DUP flag MUST be set to 0 for all QoS 0 messages\" [MQTT-3.3.1-2]"
)

// DupFlag judges R3 (client → server) at the wire: a client library that
// sends a QoS 1 PUBLISH again (a resend after a reconnect of one the
// broker had already received, so never acknowledged to the client) must
// set its DUP flag, and a QoS 0 PUBLISH never has it. The evidence is the
// broker's record of each PUBLISH it received (server receive
// Attrs{qos, dup, packet_id}, the flags as sent: the MQTT kinds record
// them, packs/mqtt/EVENTS.md); a receive is the same message as an earlier
// one when it carries the same send number (Seq) from the same client,
// and a re-delivery when it also has the same packet id. A re-delivery with
// DUP 0 is FAILED, citing the spec; a message sent again under a new
// packet id is a new PUBLISH for the protocol (noted, and publish_fate's
// duplicate). No receive with those attributes, or no re-delivery:
// UNKNOWN.
type DupFlag struct{}

// Check implements Checker.
func (c *DupFlag) Check(in Input) Result { return onView(in, c, c.check) }

// receiveKey names a client message: its client (else its session, when
// no client named that session) and its send number.
type receiveKey struct {
	who string
	n   int64
}

func clientOfSession(v *view, sess string) string {
	if cl := v.sessions().owner(sess); cl >= 0 {
		return fmt.Sprintf("client %d", cl)
	}
	return fmt.Sprintf("session %q", sess)
}

func (c *DupFlag) check(v *view) Result {
	var j judge
	flagged, qos1, unnumbered, redelivered, withDup, firstDup, republished := 0, 0, 0, 0, 0, 0, 0
	first := map[receiveKey]history.Event{}
	var notes, whos []string
	bad := map[string][][2]history.Event{} // per client: (first copy, re-delivery with DUP 0)
	last := time.Duration(0)
	for _, e := range v.h {
		if e.Kind != history.KindReceive || e.Source != history.SrcServer || e.Attr("qos") == "" || e.Attr("dup") == "" {
			continue
		}
		flagged++
		who := clientOfSession(v, e.Session)
		dup := e.Attr("dup") == "true"
		if e.Attr("qos") == "0" {
			if dup {
				j.fail(e.T, "%s sent a QoS 0 PUBLISH (n=%d) with DUP 1, received by %s at %s on %s: %s", who, e.Seq, e.Server, dur(e.T), e.Conn, specDupQoS0)
			}
			continue
		}
		qos1++
		if e.Seq <= 0 {
			unnumbered++
			continue
		}
		k := receiveKey{who, e.Seq}
		p, seen := first[k]
		if !seen {
			first[k] = e
			if dup {
				firstDup++
			}
			continue
		}
		last = max(last, e.T)
		if p.Attr("packet_id") != e.Attr("packet_id") {
			republished++
			notes = append(notes, fmt.Sprintf("%s sent n=%d again at %s under a new packet id %s (first %s at %s): a new PUBLISH for the protocol",
				who, e.Seq, dur(e.T), e.Attr("packet_id"), p.Attr("packet_id"), dur(p.T)))
			continue
		}
		redelivered++
		if dup {
			withDup++
			continue
		}
		if bad[who] == nil {
			whos = append(whos, who)
		}
		bad[who] = append(bad[who], [2]history.Event{p, e})
	}
	for _, who := range whos {
		b := bad[who]
		p, e := b[0][0], b[0][1]
		var ns []string
		for _, pe := range b {
			ns = append(ns, fmt.Sprint(pe[1].Seq))
		}
		j.fail(e.T, "%s re-delivered %d QoS 1 PUBLISH packet(s) with DUP 0 (n=%s), each under the packet id the broker had received it with; the first: n=%d (packet id %s) at %s on %s, which %s had received at %s on %s (DUP %s): %s",
			who, len(b), strings.Join(ns, ","), e.Seq, e.Attr("packet_id"), dur(e.T), e.Conn, p.Server, dur(p.T), p.Conn, dupBit(p.Attr("dup")), specDupRedeliver)
	}
	j.count("QoS 1 PUBLISH received", qos1, "server receive with Attrs qos 1 (the client's PUBLISH as the broker read it)")
	j.count("re-deliveries", redelivered, "server receive of a send number and packet id the broker had received before")
	j.count("re-deliveries with DUP 1", withDup, "server receive Attrs dup true on a re-delivery")
	j.count("first copies with DUP 1", firstDup, "server receive Attrs dup true on the first receive of a send number (allowed: the broker never got the earlier attempt)")
	j.count("sent again under a new packet id", republished, "server receive of a send number under another packet id")
	if flagged == 0 {
		return j.inconclusive(v.end, "nothing to judge: no server recorded the QoS and DUP flag of a client's PUBLISH (server receive Attrs qos, dup: the MQTT kinds record them)")
	}
	for _, n := range notes {
		j.note("%s", n)
	}
	if j.failed() {
		return j.result(last, "")
	}
	if redelivered == 0 {
		why := "no QoS 1 PUBLISH of a client reached the broker twice under one packet id (no re-delivery to judge)"
		if unnumbered > 0 && unnumbered == qos1 {
			why = fmt.Sprintf("the %d QoS 1 receive(s) carry no send number (the driver must publish {\"n\": N, ...})", unnumbered)
		}
		return j.inconclusive(v.end, "nothing to judge: %s", why)
	}
	return j.result(last, "every one of %d re-delivered QoS 1 PUBLISH packet(s) carried DUP 1, as %s", redelivered, specDupRedeliver)
}

// dupBit renders a dup attribute as the flag's bit.
func dupBit(dup string) string {
	if dup == "true" {
		return "1"
	}
	return "0"
}

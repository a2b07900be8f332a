package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "resend_order", Judges: []string{"R3"}, New: func() Checker { return &ResendOrder{} }})
}

// specResendOrder is the rule resend_order holds a client to.
const specResendOrder = "MQTT 3.1.1 §4.6: \"When it re-sends any PUBLISH packets, it MUST re-send them in the order in which the original PUBLISH packets were sent (this applies to QoS 1 and QoS 2 messages)\" [MQTT-4.6.0-1]"

// ResendOrder judges R3 (client → server) at the wire: the PUBLISH packets
// a client library sends again after a reconnect come in the order their
// originals were sent. The evidence is the broker's record of each PUBLISH
// it received (server receive Attrs{qos, dup}, the flags as sent); a
// receive is a resend when it carries DUP 1 or a send number (Seq) the
// broker had received from that client before. The originals' order is
// the send numbers' (the driver numbers its sends in the order its
// library took them, one at a time). Resends on one connection that come
// out of that order are FAILED, citing the spec. No resend: UNKNOWN.
type ResendOrder struct{}

// Check implements Checker.
func (c *ResendOrder) Check(in Input) Result { return onView(in, c, c.check) }

func (c *ResendOrder) check(v *view) Result {
	var j judge
	seen := map[receiveKey]bool{}
	type connResends struct {
		who, server, conn string
		evs               []history.Event
	}
	var order []string
	byConn := map[string]*connResends{}
	for _, e := range v.h {
		if e.Kind != history.KindReceive || e.Source != history.SrcServer || e.Attr("qos") == "" || e.Attr("qos") == "0" || e.Seq <= 0 {
			continue
		}
		who := clientOfSession(v, e.Session)
		k := receiveKey{who, e.Seq}
		if seen[k] || e.Attr("dup") == "true" {
			ck := who + "|" + connKey(e.Server, e.Conn)
			cr := byConn[ck]
			if cr == nil {
				cr = &connResends{who: who, server: e.Server, conn: e.Conn}
				byConn[ck] = cr
				order = append(order, ck)
			}
			cr.evs = append(cr.evs, e)
		}
		seen[k] = true
	}
	resends := 0
	last := time.Duration(0)
	for _, ck := range order {
		cr := byConn[ck]
		resends += len(cr.evs)
		first, end := cr.evs[0], cr.evs[len(cr.evs)-1]
		last = max(last, end.T)
		j.ms = append(j.ms, Measurement{Name: fmt.Sprintf("%s %s: resends", cr.who, cr.conn), Value: float64(len(cr.evs)), Unit: "count",
			Evidence: "server receive with DUP 1 or of a send number received before", Span: &Span{From: first.T, To: end.T}})
		var ns []string
		var back *history.Event
		for i, e := range cr.evs {
			ns = append(ns, fmt.Sprint(e.Seq))
			if i > 0 && e.Seq < cr.evs[i-1].Seq && back == nil {
				e := e
				back = &e
			}
		}
		if back != nil {
			j.fail(back.T, "%s re-sent %d PUBLISH packet(s) on %s (%s at %s … %s) in the order n=%s: n=%d came after a later send's resend, where the originals were sent in the order of n: %s",
				cr.who, len(cr.evs), cr.conn, cr.server, dur(first.T), dur(end.T), strings.Join(ns, ","), back.Seq, specResendOrder)
		}
	}
	j.count("resends", resends, "server receive of a QoS 1 PUBLISH with DUP 1 or a send number received before")
	if resends == 0 {
		return j.inconclusive(v.end, "nothing to judge: no client sent a QoS 1 PUBLISH again (server receive with DUP 1 or a send number received before)")
	}
	return j.result(last, "%d resend(s) on %d connection(s), each connection's in the order of the originals, as %s", resends, len(order), specResendOrder)
}

package selftest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// The steps of one session on a fake server of the driver's protocol:
// connect, subscribe, messages, send, requests, close, a second session.

// topic is the topic the session subscribes to and the server publishes on.
const topic = "selftest"

func (t *tester) stepServer(s *Step) {
	f, err := startFake(t.rep.Hello.Protocol, t.log)
	if err != nil {
		t.why = err.Error()
		s.skip("%s; the steps that need a server are not run", err)
		return
	}
	t.srv = f
	t.c.byURL[f.url] = serverName
	t.c.sessionOf = f.kind.ClientSession
	s.Summary = fmt.Sprintf("a %s server (%s) at %s for the session steps", f.kind.Name, protocolName(f.kind.Protocol), f.url)
}

func protocolName(p string) string {
	if p == fakeserver.OwnProtocol {
		return "faultline's session protocol"
	}
	return p
}

// connectOp is the connect a run of the self-test's scenario would send.
func (t *tester) connectOp() driver.Op {
	return driver.Op{Op: driver.OpConnect, Servers: []string{t.srv.url}, Options: driver.OptionsFor(t.srv.sc.Client).Raw()}
}

// connect opens client's session and holds it to the protocol: the reply
// ok (with an effective contract when the hello declared one), CONNECTING
// then CONNECTED_ACTIVE naming the server and a session the server served.
// It returns the CONNECTED_ACTIVE event.
func (t *tester) connect(s *Step, c *conv, client int) (evRec, bool) {
	mark := c.mark()
	op := t.connectOp()
	r, ok := t.doOn(c, s, client, op)
	if !ok || !accepted(s, "connect", r, fmt.Sprintf("the server is up at %s", t.srv.url)) {
		return evRec{}, false
	}
	if c == t.c {
		t.effectiveContract(s, r)
	}
	up, ok := c.waitEvent(mark, t.cfg.Timeout, func(e evRec) bool {
		return e.client == clientKey(t, client) && e.e.Type == driver.EvState && e.e.To == driver.ConnectedActive
	})
	if !ok {
		s.fail("no state event into CONNECTED_ACTIVE within %s of the connect (%s); expected CONNECTING, then CONNECTED_ACTIVE once the session is up%s",
			ms(t.cfg.Timeout), r.where(), t.statesText(c, mark, client))
		return evRec{}, false
	}
	first, _ := c.waitEvent(mark, 0, func(e evRec) bool { return e.client == clientKey(t, client) && e.e.Type == driver.EvState })
	if first.n != up.n && (first.e.To != driver.Connecting || first.e.From != "") {
		s.fail("%s: a session's first state event goes into CONNECTING without \"from\"", first.where())
	}
	if up.e.Session != "" {
		name := t.srv.session(up.e.Session)
		if _, ok := waitServer(t.log, 0, t.cfg.Timeout, func(e history.Event) bool {
			return (e.Kind == history.KindSessionCreate || e.Kind == history.KindSessionResume) && e.Session == name
		}); !ok {
			s.fail("%s names session %q, but the server served no session of that name (it served: %s); expected the session id the server gave",
				up.where(), up.e.Session, t.servedText())
		}
	}
	return up, true
}

// clientKey is the client an event of client's names: -1 for a one-session
// driver's (its events name none) is recorded as 0.
func clientKey(t *tester, client int) int {
	if t.multi {
		return client
	}
	return 0
}

// statesText lists the state events client reported since mark, for a
// problem about a state that did not come.
func (t *tester) statesText(c *conv, mark, client int) string {
	var ls []string
	for _, e := range c.eventsSince(mark) {
		if e.client == clientKey(t, client) && (e.e.Type == driver.EvState || e.e.Type == driver.EvError) {
			ls = append(ls, e.where())
		}
	}
	if len(ls) == 0 {
		return "; it reported no state"
	}
	if len(ls) > 4 {
		ls = append(ls[:4], fmt.Sprintf("… %d more", len(ls)-4))
	}
	return "; it reported: " + strings.Join(ls, "; ")
}

// servedText lists the sessions the server created or resumed.
func (t *tester) servedText() string {
	var ss []string
	for _, e := range t.log.Events() {
		if e.Source == history.SrcServer && (e.Kind == history.KindSessionCreate || e.Kind == history.KindSessionResume) {
			ss = append(ss, fmt.Sprintf("%s %q", e.Kind, e.Session))
		}
	}
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}

// effectiveContract holds a connect reply's contract: present when the
// hello declared one, and well formed.
func (t *tester) effectiveContract(s *Step, r replyRec) {
	declared := len(t.rep.Hello.Contract) > 0
	switch {
	case len(r.r.Contract) == 0 && declared:
		s.fail("%s: no \"contract\" in the connect's reply, though the hello declared one; expected the effective contract for the options asked (terms, params, unsupported, driver_adds)", r.where())
	case len(r.r.Contract) > 0:
		f := judgeContract(r.r.Contract, true)
		for _, p := range f.problems {
			s.fail("%s: the effective contract: %s", r.where(), p)
		}
		for _, n := range f.notes {
			t.noteOnce(s, n)
		}
		if !declared {
			s.note("the connect's reply has a contract but the hello declared none")
		}
	}
}

func (t *tester) stepConnect(s *Step) {
	if !t.needServer(s) {
		return
	}
	up, ok := t.connect(s, t.c, 0)
	if !ok {
		s.Summary = "no session"
		t.why = "the connect did not open a session"
		return
	}
	t.sess[0], t.opened = up.e.Session, true
	s.Summary = fmt.Sprintf("CONNECTING → CONNECTED_ACTIVE on %q, session %q", up.e.Server, up.e.Session)
	if len(s.Problems) == 0 {
		s.Summary += ", which the server served"
	}
}

// needSession skips a step that needs client 0's session when there is none.
func (t *tester) needSession(s *Step) bool {
	if !t.needServer(s) {
		return false
	}
	if t.sess[0] == "" {
		s.skip("not run: no session (see connect)")
		return false
	}
	return true
}

func (t *tester) stepSubscribe(s *Step) {
	if !t.needSession(s) {
		return
	}
	r, ok := t.do(s, 0, driver.Op{Op: driver.OpSubscribe, Topic: topic})
	if !ok || !accepted(s, "subscribe", r, "a subscribe on a live session is taken") {
		return
	}
	name := t.srv.session(t.sess[0])
	if _, ok := waitServer(t.log, 0, t.cfg.Timeout, func(e history.Event) bool {
		return e.Kind == history.KindSubscribe && e.Topic == topic && (e.Session == "" || e.Session == name)
	}); !ok {
		s.fail("the server recorded no subscribe to %q within %s of the reply (%s); expected the library to subscribe on the wire", topic, ms(t.cfg.Timeout), r.where())
		return
	}
	s.Summary = fmt.Sprintf("%q taken; the server recorded the subscription", topic)
}

func (t *tester) stepMessages(s *Step) {
	if !t.needSession(s) {
		return
	}
	pub, ok := t.srv.srv.(fakeserver.Publisher)
	if !ok {
		s.skip("not run: a %s server cannot publish", t.srv.kind.Name)
		return
	}
	if _, subscribed := waitServer(t.log, 0, 0, func(e history.Event) bool { return e.Kind == history.KindSubscribe && e.Topic == topic }); !subscribed {
		s.skip("not run: no subscription (see subscribe)")
		return
	}
	mark := t.c.mark()
	var seqs []int64
	for i := 1; i <= 2; i++ {
		// The payload a run's publish step sends: a real library's driver
		// reads the message's number from it ({"n": N}).
		seqs = append(seqs, pub.Publish(topic, json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))))
	}
	var got []evRec
	for _, seq := range seqs {
		m, ok := t.c.waitEvent(mark, t.cfg.Timeout, func(e evRec) bool {
			return e.client == 0 && e.e.Type == driver.EvMessage && e.e.Topic == topic && e.e.Seq == seq
		})
		if !ok {
			s.fail("no message event for %q seq %d within %s of its publish; expected {\"type\":\"message\",\"topic\":%q,\"seq\":%d}%s", topic, seq, ms(t.cfg.Timeout), topic, seq, t.delivered(seq))
			continue
		}
		got = append(got, m)
	}
	// Each once, in order.
	count := map[int64][]evRec{}
	var order []int64
	for _, e := range t.c.eventsSince(mark) {
		if e.client == 0 && e.e.Type == driver.EvMessage && e.e.Topic == topic {
			count[e.e.Seq] = append(count[e.e.Seq], e)
			order = append(order, e.e.Seq)
		}
	}
	for seq, es := range count {
		if len(es) > 1 {
			s.fail("%s: seq %d delivered %d times (first: line %d); expected each message once", es[1].where(), seq, len(es), es[0].n)
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			s.fail("messages out of order: seq %d after seq %d; expected the server's order", order[i], order[i-1])
			break
		}
	}
	if len(got) == len(seqs) {
		s.Summary = fmt.Sprintf("published seq %d and %d on %q; both reported, once each, in order", seqs[0], seqs[1], topic)
	}
}

// delivered says whether the server delivered seq, for a message that was
// not reported.
func (t *tester) delivered(seq int64) string {
	if e, ok := waitServer(t.log, 0, 0, func(e history.Event) bool { return e.Kind == history.KindDeliver && e.Topic == topic && e.Seq == seq }); ok {
		return fmt.Sprintf(" (the server delivered it at %s)", ms(e.T))
	}
	return " (the server recorded no delivery of it either)"
}

func (t *tester) stepSend(s *Step) {
	if !t.needSession(s) {
		return
	}
	mark := len(t.log.Events()) // the history is in time order: later records go after
	r, ok := t.do(s, 0, driver.Op{Op: driver.OpSend, Payload: json.RawMessage(`"selftest-send"`)})
	if !ok || !accepted(s, "send", r, "a send on a live session is taken") {
		return
	}
	name := t.srv.session(t.sess[0])
	if _, ok := waitServer(t.log, mark, t.cfg.Timeout, func(e history.Event) bool {
		return e.Kind == history.KindReceive && (e.Session == "" || e.Session == name)
	}); !ok {
		s.fail("the server recorded no message received within %s of the send's reply (%s); expected the message on the wire", ms(t.cfg.Timeout), r.where())
		return
	}
	s.Summary = "taken; the server received it"
}

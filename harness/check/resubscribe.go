package check

import (
	"fmt"
	"sort"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "resubscribe", Judges: []string{"R3"}, New: func() Checker { return &Resubscribe{} }})
}

// The resubscribe contract term (docs/driver-protocol.md, "The SDK
// contract"): after a reconnect onto a session the server does not hold
// (MQTT: a clean session, or a kept one the broker lost: CONNACK session
// present 0), who subscribes the client's topics again.
const (
	termResubscribe = "resubscribe"
	resubAuto       = "auto"   // the library, by itself
	resubDriver     = "driver" // not the library: the driver, through its public API (listed in driver_adds)
	resubNone       = "none"   // nobody: the subscriptions are gone with the old session
)

// Resubscribe judges R3's "keeps its subscriptions" for a library whose
// server forgets them: on every connection the server began afresh
// (session.create, not session.resume) after the client's topics were
// subscribed, each of those topics must be subscribed again (server
// subscribe on that connection), so that what is published after the
// reconnect reaches the client; the deliveries and the client's messages
// after the reconnect are measured as evidence. Judged against the
// library's resubscribe term: auto or driver: a topic not subscribed
// again is FAILED; none: the loss is INFORMATIONAL with its evidence, and
// a subscription the contract does not declare is FAILED (an undeclared
// re-subscription by the driver); no term: INFORMATIONAL either way. A
// connection the client never reported CONNECTED_ACTIVE on, or held for
// less than settle, is not judged. No such connection: UNKNOWN.
type Resubscribe struct {
	// Topic restricts the check to one topic (default: every topic the
	// client subscribed).
	Topic string `yaml:"topic"`
	// Settle: a connection the client held for less than this (or began
	// within it of the end) is not judged (default 1s).
	Settle *time.Duration `yaml:"settle"`
}

// DefaultResubscribeSettle is resubscribe's default settle.
const DefaultResubscribeSettle = time.Second

// Validate checks the parameters.
func (c *Resubscribe) Validate() error { return nonNegative("settle", or(c.Settle, 0)) }

// Check implements Checker.
func (c *Resubscribe) Check(in Input) Result { return onView(in, c, c.check) }

// resubConn is one connection the server began afresh after the client's
// topics were subscribed, and what became of each topic on it.
type resubConn struct {
	cl         int
	begin      history.Event // the server's session.create on it
	up         history.Event // the client's CONNECTED_ACTIVE on it
	end        time.Duration // its conn.close, or the end
	held       []string      // the topics subscribed before it began
	k          *Contract
	subscribed map[string]*history.Event // topic → the server's subscribe on it
}

func (c *Resubscribe) check(v *view) Result {
	var j judge
	settle := or(c.Settle, DefaultResubscribeSettle)
	var conns []resubConn
	var notes []string
	kept := 0
	for _, cl := range v.clients {
		cs, skipped, resumed := c.conns(v, cl, settle)
		conns = append(conns, cs...)
		notes = append(notes, skipped...)
		kept += resumed
	}
	var info []string
	okN, missing, pubsAfter, delivAfter := 0, 0, 0, 0
	last := time.Duration(0)
	for _, rc := range conns {
		value := rc.k.Value(termResubscribe)
		for _, topic := range rc.held {
			sub := rc.subscribed[topic]
			from := rc.begin.T
			if sub != nil {
				from = sub.T
			}
			pubs, dels, msgs := c.after(v, rc, topic, from)
			pubsAfter += pubs
			delivAfter += dels
			last = max(last, rc.up.T)
			who := fmt.Sprintf("client %d", rc.cl)
			fresh := fmt.Sprintf("%s on %s (session %q begun afresh by %s at %s: the server held none of its subscriptions)", who, rc.begin.Conn, rc.begin.Session, rc.begin.Server, dur(rc.begin.T))
			if sub != nil {
				okN++
				last = max(last, sub.T)
				j.ms = append(j.ms, Measurement{Name: fmt.Sprintf("client %d %s %q: new session → subscribe", rc.cl, rc.begin.Conn, topic), Value: Ms(sub.T - rc.begin.T), Unit: "ms",
					Evidence: "server subscribe on the connection − its session.create", Span: &Span{From: rc.begin.T, To: sub.T}})
				what := fmt.Sprintf("%s: %q subscribed again at %s, %s later; since then %d message(s) published on it, %d delivered to the connection, %d reported by the client",
					fresh, topic, dur(sub.T), dur(sub.T-rc.begin.T), pubs, dels, msgs)
				switch value {
				case resubAuto, resubDriver:
				case resubNone:
					j.fail(sub.T, "%s, yet %s: a re-subscription the contract does not declare", what, rc.k.Says(termResubscribe))
				default:
					info = append(info, what)
				}
				continue
			}
			missing++
			what := fmt.Sprintf("%s: %q never subscribed again; %d message(s) published on it while the client held the connection (to %s), %d delivered to it, %d reported by the client",
				fresh, topic, pubs, dur(rc.end), dels, msgs)
			switch value {
			case resubAuto, resubDriver:
				j.fail(rc.up.T, "%s; %s", what, rc.k.Says(termResubscribe))
			default:
				info = append(info, what+"; "+pfSays(rc.k, termResubscribe))
			}
		}
	}
	j.count("reconnects judged", len(conns), "server session.create after the client's topics were subscribed, on a connection the client reported CONNECTED_ACTIVE on and held for settle")
	j.count("kept by the server", kept, "server session.resume after a subscribe: the server held the subscriptions (not judged)")
	j.count("subscribed again", okN, "server subscribe of a held topic on the new connection")
	j.count("not subscribed again", missing, "no server subscribe of a held topic on the new connection")
	j.count("published after the reconnect", pubsAfter, "server publish on the topic after its re-subscribe (or the new session) while the connection lived")
	j.count("delivered after the reconnect", delivAfter, "server deliver on the new connection")
	if len(conns) == 0 {
		why := "no reconnect onto a session the server began afresh after a subscribe (server session.create after a server subscribe)"
		if len(notes) > 0 {
			why += "; " + list(notes)
		}
		return j.inconclusive(v.end, "nothing to judge: %s", why)
	}
	for _, n := range notes {
		j.note("%s", n)
	}
	if j.failed() {
		return j.result(last, "")
	}
	k := conns[0].k
	if len(info) > 0 {
		if okN > 0 && missing == 0 {
			return j.informational(last, list(info)+"; not judged: "+pfSays(k, termResubscribe))
		}
		return j.informational(last, list(info))
	}
	return j.result(last, "every held topic was subscribed again on each of %d connection(s) the server began afresh (%d message(s) published after, %d delivered), as %s says",
		len(conns), pubsAfter, delivAfter, pfSays(k, termResubscribe))
}

// conns lists client cl's connections to judge, why others were skipped,
// and how many the server resumed (subscriptions kept).
func (c *Resubscribe) conns(v *view, cl int, settle time.Duration) (out []resubConn, skipped []string, resumed int) {
	mine := map[string]bool{}
	for _, s := range v.sessions().of(cl) {
		mine[s] = true
	}
	var subs, begins []history.Event
	seenConn := map[string]bool{}
	for _, e := range v.h {
		if e.Source != history.SrcServer || !mine[e.Session] {
			continue
		}
		switch {
		case e.Kind == history.KindSubscribe && (c.Topic == "" || e.Topic == c.Topic):
			subs = append(subs, e)
		case (e.Kind == history.KindSessionCreate || e.Kind == history.KindSessionResume) && e.Conn != "" && !seenConn[connKey(e.Server, e.Conn)]:
			seenConn[connKey(e.Server, e.Conn)] = true
			begins = append(begins, e)
		}
	}
	for _, b := range begins {
		var held []string
		for _, s := range subs {
			if s.T < b.T && !containsStr(held, s.Topic) {
				held = append(held, s.Topic)
			}
		}
		if len(held) == 0 {
			continue
		}
		sort.Strings(held)
		if b.Kind == history.KindSessionResume {
			resumed++
			continue
		}
		end := v.end
		if e, ok := v.closes[connKey(b.Server, b.Conn)]; ok {
			end = e.T
		}
		up, ok := v.client().firstStateAfter(cl, b.T-v.slack, driver.ConnectedActive)
		if !ok || up.T > end+v.slack {
			skipped = append(skipped, fmt.Sprintf("client %d never reported CONNECTED_ACTIVE on %s (begun at %s)", cl, b.Conn, dur(b.T)))
			continue
		}
		if end-up.T < settle {
			skipped = append(skipped, fmt.Sprintf("client %d held %s only %s from its CONNECTED_ACTIVE (settle %s)", cl, b.Conn, dur(max(end-up.T, 0)), dur(settle)))
			continue
		}
		rc := resubConn{cl: cl, begin: b, up: up, end: end, held: held, k: v.client().contract(cl, b.T), subscribed: map[string]*history.Event{}}
		for _, s := range subs {
			if s.Server == b.Server && s.Conn == b.Conn && s.T >= b.T && rc.subscribed[s.Topic] == nil {
				s := s
				rc.subscribed[s.Topic] = &s
			}
		}
		out = append(out, rc)
	}
	return out, skipped, resumed
}

// after counts, on rc's connection from `from` to its end, the server's
// publishes on topic, its deliveries of them to the connection, and the
// client's messages on it.
func (c *Resubscribe) after(v *view, rc resubConn, topic string, from time.Duration) (pubs, dels, msgs int) {
	for _, e := range v.h {
		if e.T < from || e.T > rc.end+v.slack || e.Topic != topic {
			continue
		}
		switch {
		case e.Kind == history.KindPublish && e.Server == rc.begin.Server && e.T <= rc.end:
			pubs++
		case e.Kind == history.KindDeliver && e.Server == rc.begin.Server && e.Conn == rc.begin.Conn:
			dels++
		case e.Kind == history.KindMessage && e.Source == history.SrcClient && e.Client == rc.cl:
			msgs++
		}
	}
	return pubs, dels, msgs
}

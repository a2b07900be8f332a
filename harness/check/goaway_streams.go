package check

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// maxQuote caps a client error quoted in a detail.
const maxQuote = 160

func init() {
	Register(Spec{Name: "goaway_streams", Judges: []string{"M6"}, New: func() Checker { return &GoawayStreams{} }})
}

// GoawayStreams reports, never judges, what became of the streams a client
// had open on a connection its server told to go away (the neutral
// going_away; gRPC's GOAWAY lets them run until the server's grace ends,
// then the connection closes): the companion of goaway_not_failure, which
// judges the client, not its streams. The gRPC specification leaves a
// stream cut at the end of a drain to the application (UNAVAILABLE), so
// the result is INFORMATIONAL, with the evidence:
//   - each request (a Rows call: server request on the notified connection,
//     no done before the notice): finished within the grace (the server's
//     done, and the client's), or cut when the connection closed, after how
//     many of its rows, with the client's error naming it ("request <id>");
//   - each subscription (server subscribe on the notified connection): the
//     messages delivered on the old connection after the notice, its end
//     (the connection's close, the client's error naming the topic), the
//     next subscribe of the topic in another of the client's sessions (who
//     re-opens it: the driver_adds of the connect reply say), and the
//     publishes after the notice the client never got.
//
// The cases and the watch are goaway_not_failure's (settle past the
// notice's grace). With no stream open at a notice the check is UNKNOWN.
type GoawayStreams struct {
	// Settle is how long after the notice's grace to keep watching
	// (default 1s).
	Settle *time.Duration `yaml:"settle"`
}

// Validate checks the parameters.
func (c *GoawayStreams) Validate() error { return nonNegative("settle", or(c.Settle, 0)) }

// Check implements Checker.
func (c *GoawayStreams) Check(in Input) Result { return onView(in, c, c.check) }

func (c *GoawayStreams) check(v *view) Result {
	var j judge
	cases := goawayCases(v, &j, or(c.Settle, DefaultGoawaySettle))
	if len(cases) == 0 {
		return j.inconclusive(v.end, "nothing to judge: no client was on a connection a server told to go away (server going_away)")
	}
	var out []string
	within, cut, subs := 0, 0, 0
	last := time.Duration(0)
	for _, k := range cases {
		last = max(last, k.Until)
		for _, rq := range c.requests(v, k) {
			s, done := c.request(v, &j, k, rq)
			out = append(out, s)
			if done {
				within++
			} else {
				cut++
			}
		}
		for _, sb := range c.subscriptions(v, k) {
			out = append(out, c.subscription(v, &j, k, sb))
			subs++
		}
	}
	j.count("requests finished within the grace", within, "server done on the notified connection after the going_away")
	j.count("requests cut", cut, "server request on the notified connection with no done by the watch's end")
	j.count("subscriptions open at the notice", subs, "server subscribe on the notified connection before the going_away")
	if len(out) == 0 {
		return j.inconclusive(last, "nothing to judge: no stream (request, subscription) was open on a notified connection at its notice")
	}
	return j.informational(last, "what became of the streams open at the notice (not judged: the end of a drain is the application's to handle): "+strings.Join(out, "; ")+notesOf(&j))
}

// requests are the server's request events on k's connection, before the
// notice, with no done before it.
func (c *GoawayStreams) requests(v *view, k gaCase) []history.Event {
	var out []history.Event
	for _, e := range v.bySess[k.Session] {
		if e.T >= k.Notice.T {
			break
		}
		if e.Kind == history.KindRequest && e.Conn == k.Conn {
			out = append(out, e)
		}
		if e.Kind == history.KindDone {
			out = slices.DeleteFunc(out, func(r history.Event) bool { return r.Attr("req") == e.Attr("req") })
		}
	}
	return out
}

// request tells one request's fate; done reports it finished.
func (c *GoawayStreams) request(v *view, j *judge, k gaCase, rq history.Event) (string, bool) {
	id := rq.Attr("req")
	who := fmt.Sprintf("client %d request %s (%s rows) on %s %s", k.Client, id, rq.Attr("rows"), k.Server, k.Conn)
	rows := 0
	var lastRow time.Duration
	for _, e := range v.bySess[k.Session] {
		if e.T > k.Until {
			break
		}
		if e.Kind == history.KindRow && e.Attr("req") == id {
			rows++
			lastRow = e.T
		}
		if e.Kind == history.KindDone && e.Attr("req") == id && e.T >= k.Notice.T {
			j.measureSpan(fmt.Sprintf("client %d request %s: notice → done", k.Client, id), k.Notice.T, e.T, "server done − server going_away", "")
			s := fmt.Sprintf("%s finished within the grace: the server's done (%s rows) at %s, %s after the notice", who, e.Attr("rows"), dur(e.T), dur(e.T-k.Notice.T))
			if cd, ok := clientDone(v, k.Client, id, e.T); ok {
				s += fmt.Sprintf(", the client's at %s", dur(cd.T))
			} else {
				s += ", none from the client"
			}
			return s, true
		}
	}
	s := fmt.Sprintf("%s was cut: %d row(s) written", who, rows)
	if rows > 0 {
		s += fmt.Sprintf(" (the last at %s)", dur(lastRow))
	}
	if k.End != nil {
		s += fmt.Sprintf(", no done before the connection's end at %s (%s), %s after the notice", dur(k.End.T), ldEndText(*k.End, k.Why), dur(k.End.T-k.Notice.T))
		j.measureSpan(fmt.Sprintf("client %d request %s: notice → cut", k.Client, id), k.Notice.T, k.End.T, "server conn.close/session.disconnect of the notified connection − server going_away", "")
	} else {
		s += ", no done by " + dur(k.Until)
	}
	return s + clientSays(v, k, "request "+id), false
}

// clientDone is the client's done of request id at or after t (less the
// slack).
func clientDone(v *view, cl int, id string, t time.Duration) (history.Event, bool) {
	for _, e := range v.h {
		if e.Source == history.SrcClient && e.Kind == history.KindDone && e.Client == cl && e.Attr("request") == id && e.T >= t-v.slack {
			return e, true
		}
	}
	return history.Event{}, false
}

// clientSays quotes the client's first error after the notice that names
// what (a request, a topic), for a detail.
func clientSays(v *view, k gaCase, what string) string {
	for _, e := range v.h {
		if e.T <= k.Notice.T || e.T > k.Until || e.Source != history.SrcClient || e.Kind != history.KindError || e.Client != k.Client {
			continue
		}
		if containsWord(e.Reason, what) {
			q := e.Reason
			if r := []rune(q); len(r) > maxQuote {
				q = string(r[:maxQuote]) + "…"
			}
			return fmt.Sprintf("; the client at %s: %q", dur(e.T), q)
		}
	}
	return "; no client error names it"
}

// containsWord reports whether s contains what not followed by a digit
// ("request 4" is not in "request 42").
func containsWord(s, what string) bool {
	for i := strings.Index(s, what); i >= 0; {
		end := i + len(what)
		if end == len(s) || s[end] < '0' || s[end] > '9' {
			return true
		}
		n := strings.Index(s[end:], what)
		if n < 0 {
			return false
		}
		i = end + n
	}
	return false
}

// subscriptions are the server's subscribe events on k's connection before
// the notice.
func (c *GoawayStreams) subscriptions(v *view, k gaCase) []history.Event {
	var out []history.Event
	for _, e := range v.bySess[k.Session] {
		if e.T >= k.Notice.T {
			break
		}
		if e.Kind == history.KindSubscribe && e.Conn == k.Conn {
			out = append(out, e)
		}
	}
	return out
}

// subscription tells one subscription's fate.
func (c *GoawayStreams) subscription(v *view, j *judge, k gaCase, sb history.Event) string {
	topic := sb.Topic
	who := fmt.Sprintf("client %d subscription to %s on %s %s", k.Client, topic, k.Server, k.Conn)
	delivered := 0
	for _, e := range v.bySess[k.Session] {
		if e.T > k.Notice.T && e.T <= k.Until && e.Kind == history.KindDeliver && e.Topic == topic {
			delivered++
		}
	}
	s := fmt.Sprintf("%s: %d message(s) delivered on it after the notice", who, delivered)
	if k.End != nil {
		s += fmt.Sprintf(", ended with the connection at %s (%s)", dur(k.End.T), ldEndText(*k.End, k.Why))
	}
	s += clientSays(v, k, topic)
	// The same topic subscribed again in another of the client's sessions.
	var again *history.Event
	for _, e := range v.h {
		if e.T > k.Notice.T && e.T <= k.Until && e.Source == history.SrcServer && e.Kind == history.KindSubscribe && e.Topic == topic &&
			e.Session != k.Session && v.sessions().owner(e.Session) == k.Client {
			e := e
			again = &e
			break
		}
	}
	if again != nil {
		s += fmt.Sprintf("; subscribed again on %s %s at %s", again.Server, again.Conn, dur(again.T))
		if k.End != nil {
			j.measureSpan(fmt.Sprintf("client %d %s: old stream's end → subscribed again", k.Client, topic), k.End.T, again.T, "server subscribe on the new connection − server end of the notified connection", "")
		}
	} else {
		s += "; not subscribed again by " + dur(k.Until)
	}
	missed := missedAfter(v, k, topic)
	if len(missed) == 0 {
		return s + "; every message published after the notice reached the client"
	}
	return s + fmt.Sprintf("; %d message(s) published after the notice never reached the client (seq %s)", len(missed), seqList(missed))
}

// missedAfter are the seqs of topic published after k's notice (to the
// watch's end) that the client never reported.
func missedAfter(v *view, k gaCase, topic string) []int64 {
	got := map[int64]bool{}
	for _, e := range v.h {
		if e.Source == history.SrcClient && e.Kind == history.KindMessage && e.Client == k.Client && e.Topic == topic {
			got[e.Seq] = true
		}
	}
	var out []int64
	for _, e := range v.h {
		if e.Source == history.SrcServer && e.Kind == history.KindPublish && e.Server == k.Server && e.Topic == topic &&
			e.T > k.Notice.T && e.T <= k.Until && !got[e.Seq] {
			out = append(out, e.Seq)
		}
	}
	return out
}

// seqList renders seqs, capped.
func seqList(seqs []int64) string {
	var parts []string
	for i, s := range seqs {
		if i == 2*maxListed {
			parts = append(parts, fmt.Sprintf("… %d more", len(seqs)-i))
			break
		}
		parts = append(parts, strconv.FormatInt(s, 10))
	}
	return strings.Join(parts, ", ")
}

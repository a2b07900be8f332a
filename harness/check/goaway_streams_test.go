package check

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// What became of the streams open at a GOAWAY (gaStory: a subscription to
// prices and request 3 of 100 rows on s1#1; the notice at 600ms, the close
// at 1100ms; the client moved to s1#2, session B).

// gaStreams: gaStory with the move, a short request 5 (15 rows) that ends
// within the grace, rows of request 3 until 1080ms, publishes 1..3 after
// the notice (seq 2 never reaching the client), the client's errors at the
// close and the subscription re-opened on s1#2 at 1102ms.
func gaStreams() *story {
	s := gaMove(gaStory())
	s.add(ev(450, history.KindRequest, "server=s1", "conn=s1#1", "session=A", "req=5", "rows=15"),
		ev(700, history.KindDone, "server=s1", "conn=s1#1", "session=A", "req=5", "rows=15"),
		ev(701, history.KindDone, "src=client", "client=0", "request=5"))
	for _, t := range []float64{401, 600, 1080} {
		s.add(ev(t, history.KindRow, "server=s1", "conn=s1#1", "session=A", "req=3"))
	}
	s.add(ev(650, history.KindPublish, "server=s1", "topic=prices", "seq=1"),
		ev(650.5, history.KindDeliver, "server=s1", "conn=s1#1", "session=A", "topic=prices", "seq=1"),
		ev(651, history.KindMessage, "client=0", "topic=prices", "seq=1"),
		ev(1100.5, history.KindPublish, "server=s1", "topic=prices", "seq=2"),
		ev(1200, history.KindPublish, "server=s1", "topic=prices", "seq=3"),
		ev(1200.5, history.KindDeliver, "server=s1", "conn=s1#2", "session=B", "topic=prices", "seq=3"),
		ev(1201, history.KindMessage, "client=0", "topic=prices", "seq=3"),
		ev(1101, history.KindError, "client=0", "reason=Rows request 3 ended: rpc error: code = Unavailable desc = closing transport due to: received prior goaway"),
		ev(1101, history.KindError, "client=0", "reason=Rows request 35 ended: not this one"),
		ev(1101.5, history.KindError, "client=0", "reason=Subscribe prices ended: UNAVAILABLE: Socket closed"),
		ev(1102, history.KindSubscribe, "server=s1", "conn=s1#2", "session=B", "topic=prices"))
	return s
}

func TestGoawayStreams(t *testing.T) {
	sc := gaScen()
	runCases(t, []tcase{
		{name: "a request within the grace, one cut, a subscription re-opened: INFORMATIONAL", cfg: &GoawayStreams{}, sc: sc, h: gaStreams().hist(), verdict: Informational,
			detail: []string{"what became of the streams open at the notice (not judged",
				"client 0 request 5 (15 rows) on s1 s1#1 finished within the grace: the server's done (15 rows) at 700.0ms, 100.0ms after the notice, the client's at 701.0ms",
				"client 0 request 3 (100 rows) on s1 s1#1 was cut: 3 row(s) written (the last at 1080.0ms), no done before the connection's end at 1100.0ms (going_away: goaway), 500.0ms after the notice; the client at 1101.0ms: \"Rows request 3 ended: rpc error: code = Unavailable",
				"client 0 subscription to prices on s1 s1#1: 1 message(s) delivered on it after the notice, ended with the connection at 1100.0ms (going_away: goaway); the client at 1101.5ms: \"Subscribe prices ended: UNAVAILABLE: Socket closed\"; subscribed again on s1 s1#2 at 1102.0ms; 1 message(s) published after the notice never reached the client (seq 2)"}},
		{name: "a request ended before the notice is no stream at it: UNKNOWN", cfg: &GoawayStreams{}, sc: sc, h: func() history.History {
			s := &story{}
			s.connect(5, "A")
			s.add(ev(100, history.KindRequest, "server=s1", "conn=s1#1", "session=A", "req=3", "rows=1"),
				ev(101, history.KindDone, "server=s1", "conn=s1#1", "session=A", "req=3", "rows=1"),
				ev(600, history.KindGoingAway, "server=s1", "conn=s1#1", "grace_ms=500", "notice=goaway"))
			return s.hist()
		}(), verdict: Unknown, detail: []string{"nothing to judge: no stream (request, subscription) was open on a notified connection at its notice"}},
		{name: "no notice: UNKNOWN", cfg: &GoawayStreams{}, sc: sc, h: func() history.History { s := &story{}; s.connect(5, "A"); return s.hist() }(), verdict: Unknown,
			detail: []string{"nothing to judge: no client was on a connection a server told to go away"}},
		{name: "bad settle", cfg: &GoawayStreams{Settle: Ptr(-time.Second)}, sc: sc, h: gaStreams().hist(), verdict: Failed, detail: []string{"bad parameters: settle must not be negative"}},
	})
}

func TestContainsWord(t *testing.T) {
	for _, tc := range []struct {
		s, what string
		want    bool
	}{
		{"Rows request 4 ended", "request 4", true},
		{"Rows request 42 ended", "request 4", false},
		{"Rows request 42 ended; request 4 too", "request 4", true},
		{"Rows (request 4) ended", "request 4", true},
		{"ends with request 4", "request 4", true},
		{"nothing", "request 4", false},
	} {
		if got := containsWord(tc.s, tc.what); got != tc.want {
			t.Errorf("containsWord(%q, %q) = %v, want %v", tc.s, tc.what, got, tc.want)
		}
	}
}

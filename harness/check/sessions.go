package check

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Sessions: the session ids a client named (client evidence) and each
// session's server events (server evidence), indexed in newView
// (view.bySess).

// sessionView is the sessions as the clients named them and the servers
// served them: their spans, owners and server events, the landings of walks
// (landings.go) and the claims held against the servers' record (span.go).
type sessionView struct {
	*view           // the index
	wv    *walkView // the walks whose landings are sessions
}

func newSessionView(v *view, wv *walkView) *sessionView { return &sessionView{view: v, wv: wv} }

// of lists the session ids a client reported, in order of appearance
// (once per client and view).
func (v *sessionView) of(c int) []string {
	return derive(v.memo, sessionsKey{c}, func() []string { return v.find(c) })
}

type sessionsKey struct{ client int }

// find computes of.
func (v *sessionView) find(c int) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range v.states[c] {
		if e.Session != "" && !seen[e.Session] {
			seen[e.Session] = true
			out = append(out, e.Session)
		}
	}
	return out
}

// sessionSpan is when a client held a session: from its first state event
// naming it to the first state event naming another (or the end).
func (v *sessionView) sessionSpan(c int, session string) (from, to time.Duration) {
	from, to = -1, v.end
	for _, e := range v.states[c] {
		if e.Session == session && from < 0 {
			from = e.T
		}
		if from >= 0 && e.Session != "" && e.Session != session {
			return from, e.T
		}
	}
	if from < 0 {
		from = 0
	}
	return from, to
}

// owner is the client whose state events name the session (-1: none).
func (v *sessionView) owner(session string) int {
	for _, c := range v.clients {
		for _, e := range v.states[c] {
			if e.Session == session {
				return c
			}
		}
	}
	return -1
}

// sessEvents are the server events of one kind for a session with T in
// [from, to], in order.
func (v *sessionView) sessEvents(session, kind string, from, to time.Duration) []history.Event {
	var out []history.Event
	for _, e := range v.bySess[session] {
		if e.Kind == kind && e.T >= from && e.T <= to {
			out = append(out, e)
		}
	}
	return out
}

func (v *sessionView) firstSessEvent(session string, from time.Duration, kinds ...string) (history.Event, bool) {
	for _, e := range v.bySess[session] {
		if e.T < from {
			continue
		}
		for _, k := range kinds {
			if e.Kind == k {
				return e, true
			}
		}
	}
	return history.Event{}, false
}

// endedBy is the servers' word on a session that a client reopened: its
// server's record of its end, when there is one.
func (v *sessionView) endedBy(closed, e history.Event) string {
	for _, sess := range []string{e.Session, closed.Session} {
		if sess == "" {
			continue
		}
		if end, ok := v.sessionEnd(sess, e.T+v.slack); ok {
			return fmt.Sprintf("; server %s ended session %s at %s: %s%s", end.Server, sess, dur(end.T), end.Kind, reasonText(end))
		}
	}
	return ""
}

// sessionEnd is the last record of a session's end (close, expire, lost) by
// its server at or before t.
func (v *sessionView) sessionEnd(sess string, t time.Duration) (history.Event, bool) {
	var out history.Event
	found := false
	for _, e := range v.bySess[sess] {
		if e.T > t {
			break
		}
		if isSessionEnd(e.Kind) {
			out, found = e, true
		}
	}
	return out, found
}

func isSessionEnd(kind string) bool {
	return kind == history.KindSessionClose || kind == history.KindSessionExpire || kind == history.KindSessionLost
}

func isSessionServe(kind string) bool {
	return kind == history.KindSessionCreate || kind == history.KindSessionResume || kind == history.KindMigrationResume
}

// resumeNear is the server's session.resume the client's CONNECTED_ACTIVE at
// claim reports: the last one stamped up to the slack after the claim, from
// the first resume after the heal on (a resumed connection that failed
// before the client could use it is followed by another resume).
func (v *sessionView) resumeNear(sess string, first history.Event, claim time.Duration) history.Event {
	at := first
	for _, e := range v.sessEvents(sess, history.KindSessionResume, first.T, claim+v.slack) {
		at = e
	}
	return at
}

// resumesOf are the server events from from on that show an attempt to
// resume session: a handshake naming it as a resume (accepted or refused),
// a session.resume, or a session.unknown.
func (v *sessionView) resumesOf(session string, from time.Duration) []history.Event {
	var out []history.Event
	for _, e := range v.bySess[session] {
		if e.T < from {
			continue
		}
		switch {
		case e.Kind == history.KindHandshake && e.Attr("resume") == "true",
			e.Kind == history.KindSessionUnknown:
			out = append(out, e)
		case e.Kind == history.KindSessionResume:
			// the handshake that led to it is listed already
			if !v.resumeHandshakeOn(session, e.Conn) {
				out = append(out, e)
			}
		}
	}
	return out
}

func (v *sessionView) resumeHandshakeOn(session, conn string) bool {
	for _, e := range v.bySess[session] {
		if e.Kind == history.KindHandshake && e.Conn == conn && e.Attr("resume") == "true" {
			return true
		}
	}
	return false
}

func describeResume(e history.Event) string {
	switch {
	case e.Kind == history.KindHandshake && e.OK:
		return "accepted a resume handshake on " + e.Conn
	case e.Kind == history.KindHandshake:
		return fmt.Sprintf("refused a resume handshake on %s (%s)", e.Conn, e.Reason)
	}
	return e.Kind + " on " + e.Conn
}

// serverClosedLost is a server session.lost, or session.close with reason
// lost_messages, of one of the sessions.
func (v *sessionView) serverClosedLost(sessions []string) (history.Event, bool) {
	for _, s := range sessions {
		for _, e := range v.bySess[s] {
			if e.Kind == history.KindSessionLost || (e.Kind == history.KindSessionClose && e.Reason == driver.ReasonLostMessages) {
				return e, true
			}
		}
	}
	return history.Event{}, false
}

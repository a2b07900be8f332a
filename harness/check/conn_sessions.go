package check

import (
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Some protocols have no session beyond a connection (core NATS; MQTT with a
// clean session): their server says so when it records the session's
// creation (session.create scope "connection"). Such a session is never
// resumed, closed by a message or closed for an opt-out; it ends with its
// connection, and a client that comes back does so on a new session. The
// checks read that from the server's record, never from the client: the
// session protocol's evidence (session.resume, session.close) is asked for
// only where the server's sessions outlive their connections. (A session
// protocol's server that grants retention 0 still closes its sessions by
// message: retention alone does not tell.)

// ScopeConnection is session.create's scope for a session that is its
// connection.
const ScopeConnection = "connection"

// endsWithConn reports whether the server that created sess said it is no
// more than its connection.
func (v *sessionView) endsWithConn(sess string) bool { return v.connScoped(sess) }

// connScoped is endsWithConn on the index alone (the walks need it, and
// come before the sessions view).
func (v *view) connScoped(sess string) bool {
	for _, e := range v.bySess[sess] {
		if e.Kind == history.KindSessionCreate {
			return e.Attr("scope") == ScopeConnection
		}
	}
	return false
}

// connEnd is the server's record that the connection of sess ended, at or
// after from: its session.disconnect (transport or idle; conn.close gives
// the server's own reason in its conn_reason attribute).
func (v *sessionView) connEnd(sess string, from time.Duration) (history.Event, bool) {
	return v.firstSessEvent(sess, from, history.KindSessionDisconn)
}

// createdOn is the first session.create by server at or after from.
func (v *view) createdOn(server string, from time.Duration) (history.Event, bool) {
	for _, e := range v.h {
		if e.T >= from && e.Kind == history.KindSessionCreate && e.Server == server {
			return e, true
		}
	}
	return history.Event{}, false
}

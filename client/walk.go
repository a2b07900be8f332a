package client

import (
	"context"
	"math/rand"
	"slices"
	"strconv"

	"github.com/faultline/faultline/wire"
)

// walk is one pass over the server list in search of a new session: the
// cascade of the first connection, or a failover. Each server is tried at
// most once per walk, each attempt bounded by the connect timeout, with no
// delay between attempts; the walk ends on the first welcome, on a refusal,
// or when the list is exhausted.
type walk struct {
	order  []string        // URLs still to try, in order
	tried  []string        // URLs tried so far, in order
	parent context.Context // bounds every attempt (Connect's ctx for the cascade)
	reason string          // close reason if the list runs out: that of the last failure
	cause  error           // the last failure
}

// cascadeOrder is the first connection's list: every server in list order
// with cascading on, else the first server only.
func (s *Session) cascadeOrder() []string {
	if s.opts.Cascading {
		return slices.Clone(s.opts.Servers)
	}
	return s.opts.Servers[:1]
}

// failoverOrder is the list a failover walks after losing lost: the servers
// after it in list order (wrapping round), shuffled when load balancing is
// on, then lost itself as the last resort. A server that was just lost is
// never the next choice: it is tried again only once every other one failed.
func (s *Session) failoverOrder(lost string) []string {
	i := slices.Index(s.opts.Servers, lost)
	var others []string
	if i < 0 { // not one of ours (cannot happen): the whole list
		others = slices.Clone(s.opts.Servers)
	} else {
		others = append(slices.Clone(s.opts.Servers[i+1:]), s.opts.Servers[:i]...)
	}
	if s.opts.LoadBalancing {
		shuffle(others, s.intn)
	}
	if i >= 0 {
		others = append(others, lost)
	}
	return others
}

// shuffle is Fisher–Yates: every permutation equally likely, so every
// candidate is equally likely to come first. intn(n) is uniform in [0, n).
func shuffle(a []string, intn func(int) int) {
	for i := len(a) - 1; i > 0; i-- {
		j := intn(i + 1)
		a[i], a[j] = a[j], a[i]
	}
}

// intn draws from the session's own Rand (loop goroutine only), else from
// the global source.
func (s *Session) intn(n int) int {
	if s.opts.Rand != nil {
		return s.opts.Rand.Intn(n)
	}
	return rand.Intn(n)
}

// startWalk begins a walk over order and makes its first attempt.
func (s *Session) startWalk(order []string, parent context.Context) {
	s.walk = &walk{order: order, parent: parent, reason: ReasonConnectionError}
	s.tryNext()
}

// tryNext launches the walk's next attempt, or closes the session when the
// list is exhausted (or Connect's context ended): CLOSED_FAILED naming every
// server tried.
func (s *Session) tryNext() {
	w := s.walk
	if err := w.parent.Err(); err != nil && len(w.tried) > 0 {
		s.closeWith(ClosedFailed, w.reason, w.cause, false)
		return
	}
	if len(w.order) == 0 {
		s.closeWith(ClosedFailed, w.reason, w.cause, false)
		return
	}
	s.server, w.order = w.order[0], w.order[1:]
	w.tried = append(w.tried, s.server)
	s.launch(newAttempt(s.mb), w.parent)
}

// onWalkAnswer judges one attempt of a walk.
func (s *Session) onWalkAnswer(ans answer) {
	w := s.walk
	f := ans.f
	switch {
	case ans.err != nil: // refused, reset, timed out, or garbage: the next server
		w.cause = ans.err
		w.reason = ReasonConnectionError
		if ans.rejected {
			w.reason = ReasonHandshake
		}
		s.report(&AttemptError{Server: s.server, Err: ans.err})
		s.tryNext()
	case f.T == wire.TWelcome:
		s.welcome(ans)
	case f.T == wire.TRefused:
		// The server answered: a refusal (access denied, bad hello) would be
		// the same anywhere, so the walk ends here.
		s.closeWith(ClosedFailed, refusal(f.Reason), &refusedError{s.server, f.Reason}, false)
	default:
		ans.discard()
		err := protocolf("%s answer to a new hello from %s", f.T, s.server)
		w.cause, w.reason = err, ReasonHandshake
		s.report(&AttemptError{Server: s.server, Err: err})
		s.tryNext()
	}
}

// welcome adopts a new session: CONNECTED_ACTIVE on s.server. What was sent
// or subscribed while the walk ran goes out now.
func (s *Session) welcome(ans answer) {
	f := ans.f
	s.walk = nil
	s.id, s.token, s.pingMS = f.Session, f.Token, f.PingMS
	s.idV.Store(s.id)
	s.cur = s.adopt(ans.ws, s.server)
	s.setState(ConnectedActive, "")
	for _, p := range s.buf.all() {
		s.cur.send(wire.Frame{T: wire.TSend, N: p.n, Data: p.payload})
	}
	for _, t := range s.unsent {
		s.cur.send(wire.Frame{T: wire.TSub, Topic: t})
	}
	s.unsent = nil
	if !s.connected {
		s.connected = true
		close(s.ready)
	} else if r, ok := s.strategy.(Resetter); ok {
		r.Reset() // a new session starts the reconnection schedule afresh
	}
}

// giveUp ends a session that could not be kept: with autofailover on, a
// failover; else CLOSED_FAILED.
func (s *Session) giveUp(reason string, cause error) {
	if s.opts.Failover {
		s.failover(reason, cause)
		return
	}
	s.closeWith(ClosedFailed, reason, cause, false)
}

// failover gives up the current session and walks the list for a new one.
// Nothing is carried over: the new session has a new id, no subscriptions,
// fresh message and send numbering; sends the server had not acknowledged
// are discarded (reported through OnError, never resent elsewhere).
func (s *Session) failover(reason string, cause error) {
	lost := s.server
	s.stopRecovery()
	if s.cur != nil {
		s.cur.abort()
		s.cur = nil
	}
	s.setState(Connecting, reason) // names the lost server and session
	if n := s.buf.len(); n > 0 {
		s.report(&discardedError{n: n, server: lost, cause: cause})
	}
	s.id, s.token, s.pingMS = "", "", 0
	s.idV.Store("")
	s.last, s.acked, s.subs = map[string]int64{}, map[string]int64{}, map[string]bool{}
	s.unsent, s.buf, s.nextN = nil, sendBuffer{}, 1
	s.dropMigration()              // migrate.go
	s.discardRequests(lost, cause) // request.go
	s.startWalk(s.failoverOrder(lost), context.Background())
}

type discardedError struct {
	n      int
	server string
	cause  error
}

func (e *discardedError) Error() string {
	return ErrDiscarded.Error() + ": " + strconv.Itoa(e.n) + " send(s) unacknowledged by " + e.server
}

func (e *discardedError) Unwrap() error { return ErrDiscarded }

package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// closeWait bounds Close and the clean-up wait of a failed Connect: the
// loop's own teardown is bounded by closeGrace and the dial timeouts.
const closeWait = 5 * time.Second

// Session is one client session. Its methods are safe for concurrent use.
type Session struct {
	opts     Options // resolved
	strategy Strategy
	http     *http.Client
	mb       *queue[event]
	disp     *dispatcher
	wg       sync.WaitGroup // dial and connection goroutines

	stateV atomic.Value // State, for State()
	idV    atomic.Value // string, for ID()

	ready    chan struct{} // closed on the first CONNECTED_ACTIVE
	loopDone chan struct{} // closed when the loop and its goroutines ended
	err      error         // why it closed; written by the loop before loopDone

	loopState // owned by the loop goroutine
}

// Connect opens a session on opts.Servers[0] (cascading down the list when
// opts.Cascading is on) and blocks until it is CONNECTED_ACTIVE, or until the
// first connection fails (CLOSED_FAILED, with a *CloseError naming every
// server tried). ctx bounds this first connection only, not the session.
func Connect(ctx context.Context, opts Options) (*Session, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s := &Session{opts: o, strategy: o.Strategy, http: newHTTPClient(), mb: newQueue[event](),
		disp: newDispatcher(), ready: make(chan struct{}), loopDone: make(chan struct{})}
	s.stateV.Store(State(""))
	s.idV.Store("")
	s.init()
	go s.disp.run()
	go s.run(ctx)
	select {
	case <-s.ready:
		return s, nil
	case <-s.loopDone:
	}
	select {
	case <-s.ready: // it connected, then closed at once: still a session
		return s, nil
	default:
	}
	s.waitDone() // callbacks delivered, nothing left running
	return nil, s.err
}

// ID is the session id the server issued ("" before).
func (s *Session) ID() string { return s.idV.Load().(string) }

// State is the current state. It may be ahead of the OnState callbacks.
func (s *Session) State() State { return s.stateV.Load().(State) }

// Done is closed once the session is closed, every goroutine of it has ended
// and every callback has been delivered.
func (s *Session) Done() <-chan struct{} { return s.disp.done }

// Err is nil while the session is open, then the *CloseError saying why it
// closed.
func (s *Session) Err() error {
	select {
	case <-s.loopDone:
		return s.err
	default:
		return nil
	}
}

// Subscribe subscribes to topic. Subscriptions are remembered: one made while
// recovering is sent on resume; those the server already has are not re-sent
// (a resumed session keeps them). Subscribing twice is a no-op.
func (s *Session) Subscribe(ctx context.Context, topic string) error {
	if topic == "" {
		return errors.New("client: empty topic")
	}
	return s.call(ctx, func(reply chan error) event { return evSubscribe{topic, reply} })
}

// Send sends payload as the next numbered send. It is kept in the recovery
// buffer until acked, and queued while recovering. ctx bounds the wait for
// the loop only: a send that returned ctx's error may still have been taken.
func (s *Session) Send(ctx context.Context, payload json.RawMessage) error {
	if payload != nil && !json.Valid(payload) {
		return errors.New("client: payload is not JSON")
	}
	p := append(json.RawMessage(nil), payload...) // the caller may reuse its slice
	return s.call(ctx, func(reply chan error) event { return evSend{p, reply} })
}

// call posts a request to the loop and waits for its reply.
func (s *Session) call(ctx context.Context, mk func(chan error) event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	reply := make(chan error, 1)
	if !s.mb.push(mk(reply)) {
		return ErrClosed
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.loopDone: // the loop replies to all it takes, but be safe
		select {
		case err := <-reply:
			return err
		default:
			return ErrClosed
		}
	}
}

// Close closes the session deliberately: close{} to the server,
// CLOSED_BY_CLIENT, no reconnection. It waits, bounded, for every goroutine
// to end. Closing a closed session returns nil.
func (s *Session) Close() error {
	s.mb.push(evClose{}) // refused once the loop is done: nothing to do then
	if s.disp.busy.Load() {
		// Maybe called from a callback: the dispatcher cannot finish
		// until we return, so wait for the loop only.
		return wait(s.loopDone)
	}
	return s.waitDone()
}

func (s *Session) waitDone() error { return wait(s.disp.done) }

func wait(ch <-chan struct{}) error {
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return ErrCloseTimeout
	}
}

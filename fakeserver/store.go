package fakeserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/faultline/faultline/wire"
)

// SessionContext is what a session server shares about a session so that
// another server can go on serving it: Open Server's client context, keyed by
// the session id (Open Server's "sharing client context"). It is plain data,
// so a store outside the process could hold it too.
type SessionContext struct {
	Session     string
	Token       string
	Retention   time.Duration
	NoReconnect bool
	Topics      []string
	Received    int64          // highest client send n the source received
	Requests    []RequestState // in arrival order: running ones are postponed
	Mig         string         // the migration that shared it
	From        string         // the source server's name
	Target      string         // the target server's name: only it may take the context
	// Late are commands the source read after it stopped serving the
	// session (sent by the client just before it saw MIGRATING), in arrival
	// order: the target runs them on resume, so that none is lost.
	Late []wire.Frame
}

// RequestState is one streaming request of a shared context.
type RequestState struct {
	ID, Rows  int64
	Next      int64         // the next row the server would have sent
	Every     time.Duration // row pacing
	Done      bool          // its final done was sent
	Cancelled bool          // ended by an attention
}

// ContextStore is where session servers share client contexts for
// migration. A source puts a session's context when its migration starts,
// forwards late commands into it and seals it once the client has left (or
// a grace ran out); then exactly one of two things happens: the target takes
// it (and the source is told, to drop its connection), or the source
// reclaims it (a failed migration: the source goes on serving). Every method
// is safe for concurrent use.
type ContextStore interface {
	// Put shares c for migration c.Mig. onTaken runs once the target has
	// taken it and resumed the session (Take's handoff).
	Put(c SessionContext, onTaken func()) error
	// Forward appends a late command; false when the context is no longer
	// there (taken, reclaimed, or never put).
	Forward(session, mig string, f wire.Frame) bool
	// Seal marks the context complete; it returns how many late commands it
	// holds, and false when it is no longer there.
	Seal(session, mig string) (int, bool)
	// Take hands the context to target. It waits, until ctx ends, for the
	// source to seal it, then takes it anyway (sealed says whether it was).
	// It fails when there is no such context for target, or the token is
	// wrong. The target calls handoff (never nil) once it has resumed the
	// session, holding no lock: it tells the source to let the session go.
	Take(ctx context.Context, session, token, mig, target string) (c SessionContext, sealed bool, handoff func(), err error)
	// Reclaim takes the context back to the source; false when it is no
	// longer there (the target took it).
	Reclaim(session, mig string) (SessionContext, bool)
}

// ErrNoContext is Take's error when there is nothing to take.
var ErrNoContext = errors.New("fakeserver: no shared context for this session and migration")

// MemoryStore is the in-process ContextStore that every session server of
// a run shares.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]*stored // by session id
}

type stored struct {
	c       SessionContext
	sealed  chan struct{} // closed by Seal
	onTaken func()
}

var _ ContextStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string]*stored{}} }

// Put implements ContextStore.
func (s *MemoryStore) Put(c SessionContext, onTaken func()) error {
	if c.Session == "" || c.Mig == "" || c.Target == "" {
		return fmt.Errorf("fakeserver: a shared context needs session, mig and target")
	}
	c.Topics = slices.Clone(c.Topics)
	c.Requests = slices.Clone(c.Requests)
	c.Late = slices.Clone(c.Late)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.m[c.Session]; old != nil {
		return fmt.Errorf("fakeserver: session %s is already shared by migration %s", c.Session, old.c.Mig)
	}
	s.m[c.Session] = &stored{c: c, sealed: make(chan struct{}), onTaken: onTaken}
	return nil
}

func (s *MemoryStore) get(session, mig string) *stored {
	e := s.m[session]
	if e == nil || e.c.Mig != mig {
		return nil
	}
	return e
}

// Forward implements ContextStore.
func (s *MemoryStore) Forward(session, mig string, f wire.Frame) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(session, mig)
	if e == nil {
		return false
	}
	e.c.Late = append(e.c.Late, f)
	return true
}

// Seal implements ContextStore.
func (s *MemoryStore) Seal(session, mig string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(session, mig)
	if e == nil {
		return 0, false
	}
	select {
	case <-e.sealed:
	default:
		close(e.sealed)
	}
	return len(e.c.Late), true
}

// Take implements ContextStore.
func (s *MemoryStore) Take(ctx context.Context, session, token, mig, target string) (SessionContext, bool, func(), error) {
	s.mu.Lock()
	e := s.get(session, mig)
	if e == nil || e.c.Target != target || subtle.ConstantTimeCompare([]byte(e.c.Token), []byte(token)) != 1 {
		s.mu.Unlock()
		return SessionContext{}, false, nil, ErrNoContext
	}
	s.mu.Unlock()
	sealed := true
	select {
	case <-e.sealed:
	case <-ctx.Done():
		sealed = false
	}
	s.mu.Lock()
	if s.m[session] != e { // reclaimed meanwhile
		s.mu.Unlock()
		return SessionContext{}, false, nil, ErrNoContext
	}
	select { // sealed at the last moment
	case <-e.sealed:
		sealed = true
	default:
	}
	delete(s.m, session)
	c := e.c
	s.mu.Unlock()
	handoff := func() {}
	if e.onTaken != nil {
		handoff = e.onTaken
	}
	return c, sealed, handoff, nil
}

// Reclaim implements ContextStore.
func (s *MemoryStore) Reclaim(session, mig string) (SessionContext, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(session, mig)
	if e == nil {
		return SessionContext{}, false
	}
	delete(s.m, session)
	return e.c, true
}

// Len is how many contexts the store holds (for tests and diagnostics).
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

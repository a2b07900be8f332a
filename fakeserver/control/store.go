package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/wire"
)

// The migration context store across processes (as Open Server's servers
// share client contexts). One serve process hosts a run's store, by id, in
// memory; its own session servers use it in place, and session servers in
// other processes reach it through RemoteStore over these endpoints:
//
//	POST /stores/{id}/put      ← StoreCall{context}                    → {waiter}
//	POST /stores/{id}/taken    ← {waiter, wait}: until taken, gone or wait → {taken, gone}
//	POST /stores/{id}/forward  ← {session, mig, frame}                 → {ok}
//	POST /stores/{id}/seal     ← {session, mig}                        → {late, ok}
//	POST /stores/{id}/take     ← {session, token, mig, target, wait}   → {context, sealed, handoff} | 404
//	POST /stores/{id}/handoff  ← {handoff}                              → {}
//	POST /stores/{id}/reclaim  ← {session, mig}                        → {context, ok}
//
// Take's wait is the target's grace, passed as a number and served in full
// on the host: a take cut short by a dropped request would remove the
// context and lose the answer. The source learns of the handoff by long
// polls (taken), since the store cannot call into another process.

// StoreCall is the body of every store request; each uses its own fields.
type StoreCall struct {
	Context *fakeserver.SessionContext `json:"context,omitempty"`
	Session string                     `json:"session,omitempty"`
	Token   string                     `json:"token,omitempty"`
	Mig     string                     `json:"mig,omitempty"`
	Target  string                     `json:"target,omitempty"`
	Frame   *wire.Frame                `json:"frame,omitempty"`
	Wait    Duration                   `json:"wait,omitempty"`
	Waiter  int64                      `json:"waiter,omitempty"`
	Handoff int64                      `json:"handoff,omitempty"`
}

// StoreAnswer is the answer to a store request.
type StoreAnswer struct {
	Context *fakeserver.SessionContext `json:"context,omitempty"`
	OK      bool                       `json:"ok,omitempty"`
	Late    int                        `json:"late,omitempty"`
	Sealed  bool                       `json:"sealed,omitempty"`
	Waiter  int64                      `json:"waiter,omitempty"`
	Handoff int64                      `json:"handoff,omitempty"`
	Taken   bool                       `json:"taken,omitempty"`
	Gone    bool                       `json:"gone,omitempty"`
}

// maxWait bounds a long poll or a take's wait on the host.
const maxWait = 20 * time.Second

// keptStores is how many run stores a host keeps: a run's store is made
// when its peers are set and never deleted by the harness (a killed harness
// could not), so older ones go when newer ones come.
const keptStores = 8

// sharedStore is one run's store on its host: a MemoryStore, plus the
// waiters of remote sources and the handoffs of remote targets. It is the
// ContextStore of the host's own session servers too, so that a reclaim
// done here releases a remote waiter as well.
type sharedStore struct {
	mem *fakeserver.MemoryStore

	mu       sync.Mutex
	n        int64
	waiters  map[int64]*waiter
	byKey    map[string]int64 // session/mig → waiter of a remote put
	handoffs map[int64]func()
	closed   bool
}

type waiter struct {
	done  chan struct{}
	taken bool
}

var _ fakeserver.ContextStore = (*sharedStore)(nil)

func newSharedStore() *sharedStore {
	return &sharedStore{mem: fakeserver.NewMemoryStore(), waiters: map[int64]*waiter{},
		byKey: map[string]int64{}, handoffs: map[int64]func(){}}
}

func key(session, mig string) string { return session + "/" + mig }

func (s *sharedStore) Put(c fakeserver.SessionContext, onTaken func()) error {
	return s.mem.Put(c, onTaken)
}
func (s *sharedStore) Forward(session, mig string, f wire.Frame) bool {
	return s.mem.Forward(session, mig, f)
}
func (s *sharedStore) Seal(session, mig string) (int, bool) { return s.mem.Seal(session, mig) }
func (s *sharedStore) Take(ctx context.Context, session, token, mig, target string) (fakeserver.SessionContext, bool, func(), error) {
	return s.mem.Take(ctx, session, token, mig, target)
}

// Reclaim releases the remote waiter of that context, if any: it will not
// be taken now.
func (s *sharedStore) Reclaim(session, mig string) (fakeserver.SessionContext, bool) {
	c, ok := s.mem.Reclaim(session, mig)
	if ok {
		s.finish(key(session, mig), false)
	}
	return c, ok
}

// putRemote shares a remote source's context; its waiter learns the outcome.
func (s *sharedStore) putRemote(c fakeserver.SessionContext) (int64, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, errors.New("store is gone")
	}
	s.n++
	id, w, k := s.n, &waiter{done: make(chan struct{})}, key(c.Session, c.Mig)
	s.waiters[id] = w
	s.byKey[k] = id
	s.mu.Unlock()
	if err := s.mem.Put(c, func() { s.finish(k, true) }); err != nil {
		s.mu.Lock()
		delete(s.waiters, id)
		delete(s.byKey, k)
		s.mu.Unlock()
		return 0, err
	}
	return id, nil
}

// finish ends the waiter of key k: taken, or gone.
func (s *sharedStore) finish(k string, taken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byKey[k]
	if !ok {
		return
	}
	delete(s.byKey, k)
	if w := s.waiters[id]; w != nil {
		w.taken = taken
		close(w.done)
	}
}

// wait long-polls waiter id; it forgets the waiter once it has answered.
func (s *sharedStore) wait(ctx context.Context, id int64, d time.Duration) (taken, gone bool) {
	s.mu.Lock()
	w := s.waiters[id]
	s.mu.Unlock()
	if w == nil {
		return false, true
	}
	t := time.NewTimer(min(d, maxWait))
	defer t.Stop()
	select {
	case <-w.done:
		s.mu.Lock()
		delete(s.waiters, id)
		s.mu.Unlock()
		return w.taken, !w.taken
	case <-t.C:
	case <-ctx.Done():
	}
	return false, false
}

// takeRemote takes for a remote target; its handoff runs when it says so.
func (s *sharedStore) takeRemote(c StoreCall) (fakeserver.SessionContext, bool, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), min(time.Duration(c.Wait), maxWait))
	defer cancel()
	sc, sealed, handoff, err := s.mem.Take(ctx, c.Session, c.Token, c.Mig, c.Target)
	if err != nil {
		return sc, false, 0, err
	}
	s.mu.Lock()
	s.n++
	id := s.n
	s.handoffs[id] = handoff
	s.mu.Unlock()
	return sc, sealed, id, nil
}

func (s *sharedStore) handoff(id int64) {
	s.mu.Lock()
	f := s.handoffs[id]
	delete(s.handoffs, id)
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

// close ends every waiter: the store is evicted or the host closes.
func (s *sharedStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for k, id := range s.byKey {
		delete(s.byKey, k)
		if w := s.waiters[id]; w != nil {
			close(w.done)
		}
	}
}

// stores is a host's run stores by id, the newest keptStores of them.
type stores struct {
	mu    sync.Mutex
	m     map[string]*sharedStore
	order []string
}

func (st *stores) get(id string) *sharedStore {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m == nil {
		st.m = map[string]*sharedStore{}
	}
	if s := st.m[id]; s != nil {
		return s
	}
	s := newSharedStore()
	st.m[id] = s
	st.order = append(st.order, id)
	for len(st.order) > keptStores {
		st.m[st.order[0]].close()
		delete(st.m, st.order[0])
		st.order = st.order[1:]
	}
	return s
}

func (st *stores) closeAll() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.m {
		s.close()
	}
}

// storeCall serves every /stores/{id}/{op} request.
func (h *Host) storeCall(w http.ResponseWriter, r *http.Request) {
	var c StoreCall
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&c); err != nil {
		fail(w, http.StatusBadRequest, "store call: "+err.Error())
		return
	}
	s := h.stores.get(r.PathValue("id"))
	var a StoreAnswer
	switch op := r.PathValue("op"); op {
	case "put":
		if c.Context == nil {
			fail(w, http.StatusBadRequest, "put needs a context")
			return
		}
		id, err := s.putRemote(*c.Context)
		if err != nil {
			fail(w, http.StatusConflict, err.Error())
			return
		}
		a.Waiter = id
	case "taken":
		a.Taken, a.Gone = s.wait(r.Context(), c.Waiter, time.Duration(c.Wait))
	case "forward":
		if c.Frame == nil {
			fail(w, http.StatusBadRequest, "forward needs a frame")
			return
		}
		a.OK = s.Forward(c.Session, c.Mig, *c.Frame)
	case "seal":
		a.Late, a.OK = s.Seal(c.Session, c.Mig)
	case "take":
		sc, sealed, id, err := s.takeRemote(c)
		if err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, fakeserver.ErrNoContext) {
				code = http.StatusNotFound // the target tells this from a broken store
			}
			fail(w, code, err.Error())
			return
		}
		a.Context, a.Sealed, a.Handoff = &sc, sealed, id
	case "handoff":
		s.handoff(c.Handoff)
	case "reclaim":
		sc, ok := s.Reclaim(c.Session, c.Mig)
		if ok {
			a.Context = &sc
		}
		a.OK = ok
	default:
		fail(w, http.StatusNotFound, fmt.Sprintf("no store operation %q", op))
		return
	}
	reply(w, http.StatusOK, a)
}

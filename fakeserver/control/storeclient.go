package control

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/wire"
)

// storeCallTimeout bounds one store call beyond the wait it asks for: a
// session server makes most of them holding its lock.
const storeCallTimeout = 5 * time.Second

// pollWait is how long one long poll for a handoff waits on the host.
const pollWait = 15 * time.Second

// RemoteStore is a run's context store kept by another serve process,
// reached over its API (see store.go). One session server uses it; what
// the ContextStore interface cannot return (a store that cannot be reached)
// is recorded as that server's error event: evidence, not silence.
type RemoteStore struct {
	c      *Client
	id     string
	server string
	rec    history.Recorder

	ctx    context.Context // ends the handoff polls: Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ fakeserver.ContextStore = (*RemoteStore)(nil)

// NewRemoteStore uses store id at the API base url for server, recording
// its failures into rec.
func NewRemoteStore(url, id, server string, rec history.Recorder) *RemoteStore {
	ctx, cancel := context.WithCancel(context.Background())
	return &RemoteStore{c: NewClient(url), id: id, server: server, rec: rec, ctx: ctx, cancel: cancel}
}

func (r *RemoteStore) call(ctx context.Context, op string, in StoreCall) (StoreAnswer, error) {
	var a StoreAnswer
	err := r.c.call(ctx, http.MethodPost, "/stores/"+r.id+"/"+op, in, &a)
	return a, err
}

// short is a bounded store call that no wait prolongs.
func (r *RemoteStore) short(op string, in StoreCall) (StoreAnswer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeCallTimeout)
	defer cancel()
	a, err := r.call(ctx, op, in)
	if err != nil {
		r.fail(op, err)
	}
	return a, err
}

func (r *RemoteStore) fail(op string, err error) {
	r.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindError, Server: r.server,
		Reason: "context store " + op + " at " + r.c.URL() + ": " + err.Error()})
}

// Put shares c, then polls for its handoff in the background.
func (r *RemoteStore) Put(c fakeserver.SessionContext, onTaken func()) error {
	a, err := r.short("put", StoreCall{Context: &c})
	if err != nil {
		return err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.poll(a.Waiter, onTaken)
	}()
	return nil
}

// poll waits for the handoff of waiter; onTaken runs if the target took it.
func (r *RemoteStore) poll(waiter int64, onTaken func()) {
	fails := 0
	for r.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(r.ctx, pollWait+storeCallTimeout)
		a, err := r.call(ctx, "taken", StoreCall{Waiter: waiter, Wait: Duration(pollWait)})
		cancel()
		switch {
		case err != nil && r.ctx.Err() != nil:
			return
		case err != nil:
			if fails++; fails == 3 { // the store host is gone: the handoff cannot be learnt
				r.fail("taken", err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		case a.Taken:
			if onTaken != nil {
				onTaken()
			}
			return
		case a.Gone:
			return
		}
	}
}

// Forward appends a late command; false when it could not.
func (r *RemoteStore) Forward(session, mig string, f wire.Frame) bool {
	a, err := r.short("forward", StoreCall{Session: session, Mig: mig, Frame: &f})
	return err == nil && a.OK
}

// Seal marks the context complete.
func (r *RemoteStore) Seal(session, mig string) (int, bool) {
	a, err := r.short("seal", StoreCall{Session: session, Mig: mig})
	return a.Late, err == nil && a.OK
}

// Take asks the host to wait as long as ctx allows for the seal. The
// request itself is not cut short by ctx: the host serves the wait in full
// and a dropped answer would lose the context.
func (r *RemoteStore) Take(ctx context.Context, session, token, mig, target string) (fakeserver.SessionContext, bool, func(), error) {
	wait := fakeserver.DefaultMigrationGrace
	if d, ok := ctx.Deadline(); ok {
		wait = max(time.Until(d), 0)
	}
	cctx, cancel := context.WithTimeout(context.Background(), wait+storeCallTimeout)
	defer cancel()
	a, err := r.call(cctx, "take", StoreCall{Session: session, Token: token, Mig: mig, Target: target, Wait: Duration(wait)})
	var se *StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return fakeserver.SessionContext{}, false, nil, fakeserver.ErrNoContext
	}
	if err != nil {
		r.fail("take", err)
		return fakeserver.SessionContext{}, false, nil, err
	}
	if a.Context == nil {
		return fakeserver.SessionContext{}, false, nil, errors.New("context store: take answered without a context")
	}
	id := a.Handoff
	handoff := func() { _, _ = r.short("handoff", StoreCall{Handoff: id}) }
	return *a.Context, a.Sealed, handoff, nil
}

// Reclaim takes the context back; false when the target took it (or the
// store could not be reached, which is recorded).
func (r *RemoteStore) Reclaim(session, mig string) (fakeserver.SessionContext, bool) {
	a, err := r.short("reclaim", StoreCall{Session: session, Mig: mig})
	if err != nil || !a.OK || a.Context == nil {
		return fakeserver.SessionContext{}, false
	}
	return *a.Context, true
}

// Close ends the handoff polls and waits for them (bounded).
func (r *RemoteStore) Close() {
	r.cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(storeCallTimeout):
	}
	r.c.Close()
}

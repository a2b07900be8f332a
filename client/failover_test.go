package client

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/wire"
)

// refusedURL is a ws URL nothing listens on: dials are refused.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + l.Addr().String()
	l.Close()
	return url
}

func answering(kind string) func(int, wire.Frame) reply {
	return func(int, wire.Frame) reply { return reply{kind: kind} }
}

// fakes starts n fakes issuing sessions id-1 … id-n.
func fakes(t *testing.T, n int) ([]*fake, []string) {
	var fs []*fake
	var urls []string
	for i := range n {
		f := newFakeID(t, 0, "id-"+string(rune('1'+i)))
		fs = append(fs, f)
		urls = append(urls, f.url)
	}
	return fs, urls
}

func listOpts(r *recorder, urls ...string) Options {
	o := DefaultOptions()
	o.Servers = urls
	o.Reconnect = false
	o.ConnectTimeout = time.Second
	return r.into(o)
}

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// C1: past a refused, a hung-up and a silent server, in list order, each
// attempt bounded by the connect timeout.
func TestCascadeInListOrder(t *testing.T) {
	fs, _ := fakes(t, 3)
	fs[0].setAnswer(answering("hangup"))
	fs[1].setAnswer(answering("silent"))
	down := refusedURL(t)
	r := newRecorder(t)
	o := listOpts(r, down, fs[0].url, fs[1].url, fs[2].url)
	o.Cascading = true
	o.ConnectTimeout = 150 * ms
	t0 := time.Now()
	s := connect(t, o)
	el := time.Since(t0)
	if s.ID() != "id-3" || s.State() != ConnectedActive {
		t.Fatalf("on %s, state %s", s.ID(), s.State())
	}
	if el < 150*ms || el > 150*ms+400*ms {
		t.Fatalf("cascade took %v: one silent server should cost one connect timeout (150ms)", el)
	}
	for i, f := range fs {
		if f.dialCount() != 1 {
			t.Fatalf("server %d dialed %d times", i, f.dialCount())
		}
	}
	if st := r.wait(ConnectedActive, 1, time.Second); st.Server != fs[2].url || st.Session != "id-3" {
		t.Fatalf("active on %+v", st)
	}
	wantStates(t, r, Connecting, ConnectedActive)
	var tried []string
	for _, err := range r.errors() {
		var ae *AttemptError
		if errors.As(err, &ae) {
			tried = append(tried, ae.Server)
		}
	}
	if !slices.Equal(tried, []string{down, fs[0].url, fs[1].url}) {
		t.Fatalf("failed attempts reported on %v", tried)
	}
}

// C3: without cascading only the first server is tried.
func TestNoCascadeWithoutOption(t *testing.T) {
	fs, _ := fakes(t, 2)
	fs[0].setAnswer(answering("hangup"))
	r := newRecorder(t)
	o := listOpts(r, fs[0].url, fs[1].url)
	o.Failover = true // failover applies after a connection only
	_, err := Connect(context.Background(), o)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Reason != ReasonConnectionError || !slices.Equal(ce.Tried, []string{fs[0].url}) {
		t.Fatalf("Connect err %v", err)
	}
	if fs[1].dialCount() != 0 {
		t.Fatalf("second server dialed %d times without cascading", fs[1].dialCount())
	}
}

// C2: every server failed: CLOSED_FAILED naming each, in order; nothing after.
func TestCascadeExhaustedNamesEveryServer(t *testing.T) {
	fs, urls := fakes(t, 2)
	fs[0].setAnswer(answering("hangup"))
	fs[1].setAnswer(answering("silent"))
	down := refusedURL(t)
	urls = append(urls, down)
	r := newRecorder(t)
	o := listOpts(r, urls...)
	o.Cascading = true
	o.ConnectTimeout = 100 * ms
	_, err := Connect(context.Background(), o)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.State != ClosedFailed || ce.Reason != ReasonConnectionError || !slices.Equal(ce.Tried, urls) {
		t.Fatalf("Connect err %#v", err)
	}
	for _, u := range urls {
		if !strings.Contains(err.Error(), u) {
			t.Errorf("error %q does not name %s", err, u)
		}
	}
	wantStates(t, r, Connecting, ClosedFailed)
	if st := r.all()[1]; !slices.Equal(st.Tried, urls) || st.Reason != ReasonConnectionError {
		t.Fatalf("close %+v", st)
	}
	time.Sleep(50 * ms)
	if fs[0].dialCount() != 1 || fs[1].dialCount() != 1 {
		t.Fatalf("dials %d, %d: want one each and none after the close", fs[0].dialCount(), fs[1].dialCount())
	}
}

// An explicit refusal ends the cascade: another server would answer the same.
func TestCascadeStopsOnRefusal(t *testing.T) {
	fs, urls := fakes(t, 2)
	fs[0].setAnswer(func(int, wire.Frame) reply { return reply{kind: "refused", reason: ReasonAccessDenied} })
	o := listOpts(newRecorder(t), urls...)
	o.Cascading = true
	_, err := Connect(context.Background(), o)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Reason != ReasonAccessDenied {
		t.Fatalf("Connect err %v", err)
	}
	if fs[1].dialCount() != 0 {
		t.Fatal("cascaded past a refusal")
	}
}

// F1, F2, F4: each loss moves to the next server in list order, wrapping
// round, with a new session and nothing carried over.
func TestFailoverListOrder(t *testing.T) {
	fs, urls := fakes(t, 3)
	r := newRecorder(t)
	o := listOpts(r, urls...)
	o.Failover = true
	s := connect(t, o)
	if err := s.Subscribe(context.Background(), "prices"); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "the subscription", func() bool { _, subs, _ := fs[0].snapshot(); return len(subs) == 1 })
	for k, next := range []int{1, 2, 0} {
		fs[(next+2)%3].dropAll()
		st := r.wait(ConnectedActive, k+2, 2*time.Second)
		if st.Server != urls[next] || st.Session != fs[next].sessID {
			t.Fatalf("failover %d: active on %s %s, want %s", k, st.Server, st.Session, urls[next])
		}
	}
	wantStates(t, r, Connecting, ConnectedActive, Connecting, ConnectedActive, Connecting, ConnectedActive, Connecting, ConnectedActive)
	all := r.all()
	if fo := all[2]; fo.From != ConnectedActive || fo.Server != urls[0] || fo.Session != "id-1" || fo.Reason != ReasonConnectionLost {
		t.Fatalf("failover change %+v", fo)
	}
	if h := fs[1].hello(0); h.Session != "" || h.Token != "" || h.Last != nil {
		t.Fatalf("failover hello carried state: %+v", h)
	}
	if _, subs, _ := fs[1].snapshot(); len(subs) != 0 {
		t.Fatalf("subscriptions carried to the new session: %v", subs)
	}
	if fs[0].dialCount() != 2 || fs[1].dialCount() != 1 || fs[2].dialCount() != 1 {
		t.Fatalf("dials %d %d %d", fs[0].dialCount(), fs[1].dialCount(), fs[2].dialCount())
	}
	if s.ID() != "id-1" {
		t.Fatalf("ID %q", s.ID())
	}
}

// F2: when the next server also fails, the one after it.
func TestFailoverNextAlsoFailing(t *testing.T) {
	fs, urls := fakes(t, 3)
	r := newRecorder(t)
	o := listOpts(r, urls...)
	o.Failover = true
	connect(t, o)
	fs[1].setAnswer(answering("hangup"))
	fs[0].dropAll()
	if st := r.wait(ConnectedActive, 2, 2*time.Second); st.Server != urls[2] {
		t.Fatalf("active on %s", st.Server)
	}
	if fs[1].dialCount() != 1 || fs[0].dialCount() != 1 {
		t.Fatalf("dials %d %d", fs[0].dialCount(), fs[1].dialCount())
	}
}

// C2 after a failover: every server failed, the lost one last.
func TestFailoverExhausted(t *testing.T) {
	fs, urls := fakes(t, 3)
	r := newRecorder(t)
	o := listOpts(r, urls...)
	o.Failover = true
	s := connect(t, o)
	for _, f := range fs {
		f.setAnswer(answering("hangup"))
	}
	fs[0].dropAll()
	st := r.wait(ClosedFailed, 1, 3*time.Second)
	if want := []string{urls[1], urls[2], urls[0]}; !slices.Equal(st.Tried, want) || st.Reason != ReasonConnectionError {
		t.Fatalf("close %+v, want tried %v", st, want)
	}
	<-s.Done()
	var ce *CloseError
	if !errors.As(s.Err(), &ce) || len(ce.Tried) != 3 {
		t.Fatalf("Err %v", s.Err())
	}
}

// Unacknowledged sends are not carried to the new server: discarded and
// reported; the new session numbers its sends from 1.
func TestFailoverDiscardsUnackedSends(t *testing.T) {
	fs, urls := fakes(t, 2)
	r := newRecorder(t)
	o := listOpts(r, urls...)
	o.Failover = true
	s := connect(t, o)
	fs[0].mu.Lock()
	fs[0].dropFrom = 1
	fs[0].mu.Unlock()
	for range 3 {
		if err := s.Send(context.Background(), json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	fs[0].dropAll()
	r.wait(ConnectedActive, 2, 2*time.Second)
	if err := s.Send(context.Background(), json.RawMessage(`2`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "the new session's send", func() bool { rc, _, _ := fs[1].snapshot(); return len(rc) > 0 })
	if rc, _, _ := fs[1].snapshot(); !slices.Equal(rc, []int64{1}) {
		t.Fatalf("new server received %v, want [1]", rc)
	}
	found := false
	for _, err := range r.errors() {
		found = found || errors.Is(err, ErrDiscarded)
	}
	if !found {
		t.Fatalf("no ErrDiscarded among %v", r.errors())
	}
}

// Reconnection and failover together: recover on the same server first;
// fail over only when the recovery times out.
func TestReconnectThenFailover(t *testing.T) {
	fs, urls := fakes(t, 2)
	r := newRecorder(t)
	o := listOpts(r, urls...)
	o.Failover = true
	o.Reconnect = true
	o.ReconnectTimeout = 300 * ms
	o.Strategy = &Backoff{Initial: 20 * ms, Fixed: true}
	connect(t, o)
	// A recovery in time keeps the session on s1; s2 is never tried.
	fs[0].dropAll()
	if st := r.wait(ConnectedActive, 2, 2*time.Second); st.Server != urls[0] || st.Session != "id-1" {
		t.Fatalf("recovered on %+v", st)
	}
	// Then s1 hangs up on every attempt: recovery times out, failover.
	fs[0].setAnswer(answering("hangup"))
	fs[0].dropAll()
	lost := r.wait(RecoveringReconnect, 2, 2*time.Second)
	st := r.wait(ConnectedActive, 3, 2*time.Second)
	if st.Server != urls[1] || st.Session != "id-2" {
		t.Fatalf("failed over to %+v", st)
	}
	wantStates(t, r, Connecting, ConnectedActive, RecoveringReconnect, ConnectedActive, RecoveringReconnect, Connecting, ConnectedActive)
	fo := r.all()[5]
	if fo.From != RecoveringReconnect || fo.Reason != ReasonReconnectTimeout || fo.Server != urls[0] {
		t.Fatalf("failover change %+v", fo)
	}
	if waited := fo.at.Sub(lost.at); waited < 300*ms || waited > 300*ms+200*ms {
		t.Fatalf("failed over %v after the loss, want the reconnect timeout 300ms", waited)
	}
	if fs[1].dialCount() != 1 || fs[1].hello(0).Session != "" {
		t.Fatalf("s2: %d dials, hello %+v", fs[1].dialCount(), fs[1].hello(0))
	}
	if fs[0].dialCount() < 4 {
		t.Fatalf("s1 saw %d dials: recovery attempts should have gone to it", fs[0].dialCount())
	}
}

// unknown_session ends the recovery: with failover on, a new session elsewhere.
func TestUnknownSessionFailsOver(t *testing.T) {
	fs, urls := fakes(t, 2)
	r := newRecorder(t)
	o := listOpts(r, urls...)
	o.Failover = true
	o.Reconnect = true
	o.Strategy = &Backoff{Initial: 5 * ms}
	connect(t, o)
	fs[0].setAnswer(func(int, wire.Frame) reply { return reply{kind: "refused", reason: ReasonUnknownSession} })
	fs[0].dropAll()
	st := r.wait(ConnectedActive, 2, 2*time.Second)
	if st.Server != urls[1] {
		t.Fatalf("active on %s", st.Server)
	}
	if fo := r.all()[3]; fo.To != Connecting || fo.Reason != ReasonUnknownSession {
		t.Fatalf("change %+v", fo)
	}
}

// A deliberate close by the server is not a loss: no failover.
func TestServerCloseDoesNotFailOver(t *testing.T) {
	fs, urls := fakes(t, 2)
	r := newRecorder(t)
	o := listOpts(r, urls...)
	o.Failover = true
	connect(t, o)
	fs[0].last().write(wire.Frame{T: wire.TClosed})
	r.wait(ClosedByServer, 1, 2*time.Second)
	time.Sleep(50 * ms)
	if fs[1].dialCount() != 0 {
		t.Fatal("failed over after a deliberate close")
	}
}

// F3: the shuffle makes every other server equally likely to be next (and
// every order of them equally likely); the lost server always comes last.
// Bounds are 5 standard deviations: a false failure has odds below 1e-5.
func TestFailoverOrderShuffleUniform(t *testing.T) {
	s := &Session{opts: Options{Servers: []string{"a", "b", "c", "d"}, LoadBalancing: true, Rand: rand.New(rand.NewSource(7))}}
	const n = 6000
	first := map[string]int{}
	perms := map[string]int{}
	for range n {
		o := s.failoverOrder("a")
		if len(o) != 4 || o[3] != "a" {
			t.Fatalf("order %v: the lost server must come last", o)
		}
		first[o[0]]++
		perms[strings.Join(o[:3], "")]++
	}
	check := func(what string, counts map[string]int, k int) {
		p := 1 / float64(k)
		mean, sd := n*p, math.Sqrt(n*p*(1-p))
		if len(counts) != k {
			t.Fatalf("%s: %d outcomes, want %d: %v", what, len(counts), k, counts)
		}
		for v, c := range counts {
			if math.Abs(float64(c)-mean) > 5*sd {
				t.Errorf("%s %s: %d, want %.0f ± %.0f", what, v, c, mean, 5*sd)
			}
		}
	}
	check("first", first, 3)
	check("order", perms, 6)
	// Without load balancing: list order after the lost server, wrapping.
	s.opts.LoadBalancing = false
	if o := s.failoverOrder("c"); !slices.Equal(o, []string{"d", "a", "b", "c"}) {
		t.Fatalf("list order %v", o)
	}
	// Reproducible from a seed.
	a := &Session{opts: Options{Servers: []string{"a", "b", "c", "d"}, LoadBalancing: true, Rand: rand.New(rand.NewSource(3))}}
	b := &Session{opts: Options{Servers: []string{"a", "b", "c", "d"}, LoadBalancing: true, Rand: rand.New(rand.NewSource(3))}}
	for range 20 {
		if x, y := a.failoverOrder("b"), b.failoverOrder("b"); !slices.Equal(x, y) {
			t.Fatalf("same seed, orders %v and %v", x, y)
		}
	}
}

// Options.Rand is forked per session: resolve draws once from it.
func TestRandForkedPerSession(t *testing.T) {
	src := rand.New(rand.NewSource(1))
	o, err := Options{Servers: []string{"x"}, Rand: src}.resolve()
	if err != nil || o.Rand == src || o.Rand == nil {
		t.Fatalf("resolve: %v, shared %v", err, o.Rand == src)
	}
}

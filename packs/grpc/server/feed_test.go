package server

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/faultline/faultline/harness/history"
)

// A connection's life as the server records it: accept before any HTTP/2
// byte, handshake once grpc-go's transport is up, Hello's RPC and answer,
// and conn.close (eof: the client closed) with the session on it.
func TestEvidenceOrder(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	sess := hello(t, cc, "c0")
	if want := regexp.MustCompile(`^s1@[A-Z2-7]{8}/c0#1$`); !want.MatchString(sess) || sess != "s1@"+s.StartID()+"/c0#1" {
		t.Fatalf("session %q", sess)
	}
	waitEvent(t, log, "Hello's rpc_end", kindOn(KindRPCEnd, "s1#1"))
	_ = cc.Close()
	cl := waitEvent(t, log, "conn.close", kindOn(history.KindConnClose, "s1#1"))
	if cl.Reason != ReasonEOF || cl.Session != sess || cl.Attr("client_goaway") != "true" {
		t.Fatalf("close %v", cl)
	}
	inOrder(t, onConn(log, "s1#1"), []string{history.KindAccept, history.KindHandshake, KindRPC, KindHello, KindRPCEnd, history.KindConnClose})
	for _, e := range log.Events() {
		switch e.Kind {
		case history.KindHandshake:
			if !e.OK || e.Session != "" {
				t.Errorf("handshake %v", e)
			}
		case KindRPC:
			if e.Attr("method") != MethodHello || e.Attr("client") != "c0" || e.Session != "" {
				t.Errorf("rpc %v", e)
			}
		case KindHello:
			if e.Session != sess || e.Attr("client") != "c0" || e.Attr("again") != "" {
				t.Errorf("hello %v", e)
			}
		case KindRPCEnd:
			if e.Attr("code") != "OK" || e.Session != sess {
				t.Errorf("rpc_end %v", e)
			}
		}
		if e.Source != history.SrcServer || e.Server != "s1" {
			t.Errorf("identity %v", e)
		}
	}
}

// The standard health service answers SERVING for the server as a whole.
func TestHealth(t *testing.T) {
	s, _ := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	r, err := healthpb.NewHealthClient(cc).Check(ctxT(t), &healthpb.HealthCheckRequest{})
	if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", r, err)
	}
}

// Hello refuses what would attribute a connection wrongly: no name, a name
// unlike the RPC's metadata, a second client on one connection. These must
// fail; a repeated Hello of the same client gets the same session.
func TestHelloRefusesMismatches(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c1")
	out := &wrapperspb.StringValue{}
	code := func(err error) codes.Code { return status.Code(err) }
	if err := cc.Invoke(ctxT(t), MethodHello, wrapperspb.String(""), out); code(err) != codes.InvalidArgument {
		t.Fatalf("empty name: %v", err)
	}
	if err := cc.Invoke(ctxT(t), MethodHello, wrapperspb.String("c2"), out); code(err) != codes.InvalidArgument {
		t.Fatalf("metadata c1, Hello c2: %v", err)
	}
	sess := hello(t, cc, "c1")
	if again := hello(t, cc, "c1"); again != sess {
		t.Fatalf("second Hello %q, first %q", again, sess)
	}
	// the dialer's interceptor appends c1 after c3: the first value counts
	ctx := metadata.NewOutgoingContext(ctxT(t), metadata.Pairs(MDClient, "c3"))
	if err := cc.Invoke(ctx, MethodHello, wrapperspb.String("c3"), out); code(err) != codes.FailedPrecondition {
		t.Fatalf("a second client on the connection: %v", err)
	}
	hellos := count(log, func(e history.Event) bool { return e.Kind == KindHello })
	agains := count(log, func(e history.Event) bool { return e.Kind == KindHello && e.Attr("again") == "true" })
	if hellos != 2 || agains != 1 {
		t.Fatalf("%d hellos, %d again\n%s", hellos, agains, dump(log))
	}
	if n := count(log, func(e history.Event) bool { return e.Kind == KindRPCEnd && e.Attr("code") == "InvalidArgument" }); n != 2 {
		t.Fatalf("%d InvalidArgument ends", n)
	}
}

// Publishes reach the topic's Subscribe streams in order, each recorded as
// publish then deliver; other topics' do not; seqs count per topic.
func TestSubscribePublishDeliver(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	sess := hello(t, cc, "c0")
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	st := subscribe(t, ctx, cc, "t")
	sub := waitEvent(t, log, "subscribe", kindOn(history.KindSubscribe, "s1#1"))
	if sub.Topic != "t" || sub.Session != sess {
		t.Fatalf("subscribe %v", sub)
	}
	if s.Publish("other", nil) != 1 {
		t.Fatal("other topic's first seq")
	}
	for i := 1; i <= 3; i++ {
		if seq := s.Publish("t", []byte(`{"x":1}`)); seq != int64(i) {
			t.Fatalf("publish %d: seq %d", i, seq)
		}
	}
	if got := recvSeqs(t, st, 3); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("received %v", got)
	}
	var order []string
	for _, e := range log.Events() {
		if (e.Kind == history.KindPublish || e.Kind == history.KindDeliver) && e.Topic == "t" {
			order = append(order, e.Kind+strconv.FormatInt(e.Seq, 10))
			if e.Kind == history.KindDeliver && (e.Conn != "s1#1" || e.Session != sess) {
				t.Errorf("deliver %v", e)
			}
		}
	}
	// each deliver after its publish
	for seq := 1; seq <= 3; seq++ {
		p := slices.Index(order, "publish"+strconv.Itoa(seq))
		d := slices.Index(order, "deliver"+strconv.Itoa(seq))
		if p < 0 || d < p {
			t.Fatalf("order %v", order)
		}
	}
	if n := count(log, func(e history.Event) bool { return e.Kind == history.KindDeliver && e.Topic == "other" }); n != 0 {
		t.Fatalf("%d deliveries of another topic", n)
	}
	cancel()
	waitEvent(t, log, "Subscribe's end", func(e history.Event) bool {
		return e.Kind == KindRPCEnd && e.Attr("method") == MethodSubscribe && e.Attr("code") == "Canceled"
	})
}

// Send records receive with the payload's number and answers with it.
func TestSend(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	sess := hello(t, cc, "c0")
	for payload, want := range map[string]uint64{`{"n":7}`: 7, `{"seq":9}`: 9, ` 42 `: 42, `nope`: 0, `-3`: 0} {
		out := &wrapperspb.UInt64Value{}
		if err := cc.Invoke(ctxT(t), MethodSend, wrapperspb.Bytes([]byte(payload)), out); err != nil || out.GetValue() != want {
			t.Fatalf("Send %q: %v %v, want %d", payload, out.GetValue(), err, want)
		}
	}
	seqs := map[int64]bool{}
	for _, e := range log.Events() {
		if e.Kind == history.KindReceive {
			if e.Session != sess || e.Conn != "s1#1" || e.Attr("client") != "c0" || e.Attr("bytes") == "" {
				t.Errorf("receive %v", e)
			}
			seqs[e.Seq] = true
		}
	}
	if len(seqs) != 5 || !seqs[7] || !seqs[9] || !seqs[42] || !seqs[0] || !seqs[-3] {
		t.Fatalf("receive seqs %v", seqs)
	}
}

// Rows streams 1..N at the pacing set, recording request, each row and
// done; a cancelled call ends with done cancelled.
func TestRows(t *testing.T) {
	s, log := start(t, Options{})
	s.PaceRows(5 * time.Millisecond)
	cc := dial(t, s.Addr(), "c0")
	hello(t, cc, "c0")
	ctx := metadata.AppendToOutgoingContext(ctxT(t), MDRequest, "9")
	st, err := cc.NewStream(ctx, rowsDesc, MethodRows)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.SendMsg(wrapperspb.UInt64(5))
	_ = st.CloseSend()
	got, err := drain(st)
	if err != nil || !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("rows %v %v", got, err)
	}
	req := waitEvent(t, log, "request", func(e history.Event) bool { return e.Kind == history.KindRequest })
	if req.Attr("req") != "9" || req.Attr("rows") != "5" || req.Attr("every_ms") != "5" {
		t.Fatalf("request %v", req)
	}
	done := waitEvent(t, log, "done", func(e history.Event) bool { return e.Kind == history.KindDone })
	if done.Attr("rows") != "5" || done.Attr("cancelled") != "" || done.Attr("req") != "9" {
		t.Fatalf("done %v", done)
	}
	if n := count(log, func(e history.Event) bool { return e.Kind == history.KindRow && e.Attr("req") == "9" }); n != 5 {
		t.Fatalf("%d rows", n)
	}

	// cancelled after two rows
	s.PaceRows(50 * time.Millisecond)
	cctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(ctxT(t), MDRequest, "10"))
	st, err = cc.NewStream(cctx, rowsDesc, MethodRows)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.SendMsg(wrapperspb.UInt64(100))
	_ = st.CloseSend()
	recvSeqs(t, st, 2)
	cancel()
	done = waitEvent(t, log, "cancelled done", func(e history.Event) bool { return e.Kind == history.KindDone && e.Attr("req") == "10" })
	if done.Attr("cancelled") != "true" {
		t.Fatalf("done %v", done)
	}
	if n, _ := strconv.Atoi(done.Attr("rows")); n < 2 || n > 3 {
		t.Fatalf("done %v", done)
	}
}

// An RPC for no service of the server is Unimplemented, as from any
// grpc-go server, and recorded like every RPC.
func TestUnknownMethod(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c0")
	err := cc.Invoke(ctxT(t), "/no.Such/Method", wrapperspb.String("x"), &wrapperspb.StringValue{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("unknown method: %v", err)
	}
	e := waitEvent(t, log, "rpc_end", func(e history.Event) bool { return e.Kind == KindRPCEnd })
	if e.Attr("method") != "/no.Such/Method" || e.Attr("code") != "Unimplemented" {
		t.Fatalf("rpc_end %v", e)
	}
}

// A connection is attributed by the first RPC that names its client: a Send
// the picker puts on a new connection before the driver's Hello creates the
// session (grpc.hello by Send), and the Hello after it gets the same one.
// Another client's RPC on that connection is refused, as its Hello would be.
func TestFirstNamedRPCAttributesTheConnection(t *testing.T) {
	s, log := start(t, Options{})
	cc := dial(t, s.Addr(), "c5")
	n := &wrapperspb.UInt64Value{}
	if err := cc.Invoke(ctxT(t), MethodSend, wrapperspb.Bytes([]byte(`{"n":7}`)), n); err != nil || n.GetValue() != 7 {
		t.Fatalf("send: %v, %v", n, err)
	}
	sess := hello(t, cc, "c5")
	if sess != "s1@"+s.StartID()+"/c5#1" {
		t.Fatalf("session %q", sess)
	}
	var claims []history.Event
	for _, e := range log.Events() {
		if e.Kind == KindHello {
			claims = append(claims, e)
		}
	}
	if len(claims) != 2 || claims[0].Attr("by") != "Send" || claims[0].Attr("again") != "" || claims[0].Session != sess ||
		claims[1].Attr("again") != "true" || claims[1].Attr("by") != "" {
		t.Fatalf("claims %v\n%s", claims, dump(log))
	}
	var recv history.Event
	for _, e := range log.Events() {
		if e.Kind == history.KindReceive {
			recv = e
			break
		}
	}
	if recv.Session != sess || recv.Seq != 7 {
		t.Fatalf("receive %v: the send's receive names the session it created", recv)
	}
	ctx := metadata.NewOutgoingContext(ctxT(t), metadata.Pairs(MDClient, "c6"))
	if err := cc.Invoke(ctx, MethodSend, wrapperspb.Bytes([]byte(`{"n":8}`)), n); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("another client's send on c5's connection: %v", err)
	}
}

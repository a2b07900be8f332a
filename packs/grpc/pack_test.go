package grpc

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ggrpc "google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/packs/grpc/server"
)

const wait = 5 * time.Second

func TestKindRegistered(t *testing.T) {
	k, ok := fakeserver.LookupKind("grpc")
	if !ok || k.Protocol != "grpc" || k.Scheme != "grpc" || k.Path != "" || !strings.HasPrefix(k.Doc, "the grpc-go server library") || k.ClientSession == nil {
		t.Fatalf("kind %+v", k)
	}
	if got := strings.Join(fakeserver.ActionNames("grpc"), ","); got != "accept_then_close,admit,close_all,goaway,stop_listening" {
		t.Fatalf("actions %s", got)
	}
	if u := fakeserver.URL("grpc", "127.0.0.1:50051"); u != "grpc://127.0.0.1:50051" {
		t.Fatalf("URL %s", u)
	}
	if got := k.ClientSession("s1", "s1@ABCDEFGH/c0#1"); got != "s1@ABCDEFGH/c0#1" {
		t.Fatalf("ClientSession %q", got)
	}
}

// The scenario loader decodes the kind's actions; a goaway grace that is
// not positive must be refused.
func TestActionsDecode(t *testing.T) {
	reg := scenario.Registry{Kinds: fakeserver.Kinds(), Action: fakeserver.ActionArgs, Actions: fakeserver.ActionNames,
		Check: func(name string) (any, bool) { return check.New(name) }}
	src := func(step string) []byte {
		return []byte("name: x\ncovers: [R8]\nservers:\n  - {name: s1, kind: grpc}\nclient: {servers: [s1]}\nsteps:\n  - {at: 0s, client: connect}\n  - " +
			step + "\n  - {at: 500ms, client: close}\nduration: 1s\nexpect:\n  - {check: deliberate_close, requirement: R8, by: client}\n")
	}
	sc, err := scenario.Parse("x.yaml", src("{at: 10ms, server: s1, goaway: {grace: 250ms}}"), reg)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := sc.Steps[1].ActionArgs.(*goAwayArgs); sc.Steps[1].Action != "goaway" || !ok || a.grace() != 250*time.Millisecond {
		t.Fatalf("step %+v", sc.Steps[1])
	}
	if sc, err = scenario.Parse("x.yaml", src("{at: 10ms, server: s1, goaway: {}}"), reg); err != nil || sc.Steps[1].ActionArgs.(*goAwayArgs).grace() != DefaultGrace {
		t.Fatalf("goaway {}: %v", err)
	}
	if _, err := scenario.Parse("x.yaml", src("{at: 10ms, server: s1, goaway: {grace: 0s}}"), reg); err == nil || !strings.Contains(err.Error(), "grace must be positive") {
		t.Fatalf("goaway grace 0: %v", err)
	}
	if _, err := scenario.Parse("x.yaml", src("{at: 10ms, server: s1, goaway: {grace: -1s}}"), reg); err == nil || !strings.Contains(err.Error(), "grace") {
		t.Fatalf("goaway grace -1s: %v", err) // the decoder refuses negative durations itself
	}
	for _, flag := range []string{"close_all", "accept_then_close", "stop_listening", "admit"} {
		if sc, err := scenario.Parse("x.yaml", src("{at: 10ms, server: s1, "+flag+": true}"), reg); err != nil || sc.Steps[1].Action != flag {
			t.Fatalf("%s: %v", flag, err)
		}
	}
	// the control API carries attributes as JSON: a grace survives it
	a := &goAwayArgs{}
	if err := json.Unmarshal([]byte(`{"Grace":1500000000}`), a); err != nil || a.grace() != 1500*time.Millisecond {
		t.Fatalf("JSON grace: %v %v", a.grace(), err)
	}
}

// The kind started through the registry: Hello's session is the one the
// neutral session events name; the common publish and close-sessions
// steps and the kind's actions reach the server.
func TestKindEndToEnd(t *testing.T) {
	log := history.NewLog(history.NewClock())
	srv, err := fakeserver.Start("grpc", "s1", log, fakeserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	do := func(action string, args any) {
		t.Helper()
		if err := fakeserver.Do(context.Background(), "grpc", action, srv, args, fakeserver.Env{}); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}
	cc, err := ggrpc.NewClient("passthrough:///"+srv.Addr(), ggrpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	helloOn := func() string { // retried as a driver would after its connection was closed under it
		t.Helper()
		for {
			out := &wrapperspb.StringValue{}
			err := cc.Invoke(ctx, server.MethodHello, wrapperspb.String("c0"), out)
			if err == nil {
				return out.GetValue()
			}
			if status.Code(err) != codes.Unavailable || ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	sess := helloOn()
	create := waitFor(t, log, func(e history.Event) bool { return e.Kind == history.KindSessionCreate })
	if create.Session != sess || create.Conn != "s1#1" || create.Attr("scope") != "connection" || create.Attr("retention_ms") != "0" || create.Attr("client") != "c0" {
		t.Fatalf("create %v (Hello said %q)", create, sess)
	}
	if seq := srv.(fakeserver.Publisher).Publish("t", json.RawMessage(`{}`)); seq != 1 {
		t.Fatalf("publish seq %d", seq)
	}
	srv.(fakeserver.SessionCloser).CloseSessions()
	disc := waitFor(t, log, func(e history.Event) bool { return e.Kind == history.KindSessionDisconn })
	exp := waitFor(t, log, func(e history.Event) bool { return e.Kind == history.KindSessionExpire })
	if disc.Session != sess || disc.Reason != history.DisconnServer || disc.Attr(history.AttrConnReason) != "server_close" || exp.Session != sess || exp.T < disc.T {
		t.Fatalf("disconnect %v, expire %v", disc, exp)
	}
	sess2 := helloOn()
	if sess2 == sess || !strings.HasSuffix(sess2, "/c0#2") {
		t.Fatalf("second session %q", sess2)
	}
	do("goaway", &goAwayArgs{})
	n := waitFor(t, log, func(e history.Event) bool { return e.Kind == history.KindGoingAway })
	if n.Conn != "s1#2" || n.Attr("grace_ms") != "1000" || n.Attr("notice") != "goaway" || n.Source != history.SrcServer {
		t.Fatalf("going_away %v", n)
	}
	d2 := waitFor(t, log, func(e history.Event) bool { return e.Kind == history.KindSessionDisconn && e.Session == sess2 })
	if d2.Attr(history.AttrConnReason) != "goaway" || d2.T < n.T {
		t.Fatalf("disconnect after GOAWAY %v", d2)
	}
	waitFor(t, log, func(e history.Event) bool { return e.Kind == history.KindSessionExpire && e.Session == sess2 })
	do("stop_listening", nil)
	do("admit", nil)
	do("accept_then_close", nil)
	do("admit", nil)
	do("close_all", nil)
	if sess3 := helloOn(); !strings.HasSuffix(sess3, "/c0#3") {
		t.Fatalf("third session %q", sess3)
	}
	if err := fakeserver.Do(context.Background(), "grpc", "goaway", fakeFake{}, &goAwayArgs{}, fakeserver.Env{}); err == nil {
		t.Fatal("an action on another kind's server succeeded")
	}
}

type fakeFake struct{}

func (fakeFake) Name() string { return "x" }
func (fakeFake) Addr() string { return "" }
func (fakeFake) URL() string  { return "" }
func (fakeFake) Close() error { return nil }

func waitFor(t *testing.T, log *history.Log, ok func(history.Event) bool) history.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		for _, e := range log.Events() {
			if ok(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("event not recorded in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

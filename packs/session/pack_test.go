package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/session"
	"github.com/faultline/faultline/packs/session/server"
	"github.com/faultline/faultline/wire"
)

// Every test closes what it starts: no goroutine may outlive the package's tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKindIsRegistered(t *testing.T) {
	k, ok := fakeserver.LookupKind(session.Kind)
	if !ok {
		t.Fatalf("kind %q not registered (kinds %v)", session.Kind, fakeserver.Kinds())
	}
	if k.Protocol != fakeserver.OwnProtocol || k.Scheme != "ws" || k.Path != "/" || k.Doc == "" || len(k.Actions) != 0 {
		t.Errorf("kind = %+v: want faultline's own protocol, ws, path /, a doc, no actions", k)
	}
	if got := fakeserver.URL(session.Kind, "h:1"); got != "ws://h:1/" {
		t.Errorf("URL = %q", got)
	}
}

// Started by kind, a session server is the pack's server with the
// scenario's configuration applied.
func TestRegistryStartsSessionKind(t *testing.T) {
	log := history.NewLog(history.NewClock())
	srv, err := fakeserver.Start(session.Kind, "r1", log, fakeserver.Config{Ping: 50 * time.Millisecond, Retention: time.Second, Buffer: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Name() != "r1" || srv.URL() != "ws://"+srv.Addr()+"/" || srv.URL() != fakeserver.URL(session.Kind, srv.Addr()) {
		t.Fatalf("name %q url %q addr %q", srv.Name(), srv.URL(), srv.Addr())
	}
	if _, ok := srv.(*server.Server); !ok {
		t.Fatalf("started %T", srv)
	}
	if _, ok := srv.(fakeserver.Publisher); !ok {
		t.Fatal("a session server publishes")
	}
	if _, ok := srv.(fakeserver.SessionCloser); !ok {
		t.Fatal("a session server closes sessions")
	}
	if _, ok := srv.(fakeserver.Migrator); !ok {
		t.Fatal("a session server migrates")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	hello := wire.Frame{T: wire.THello, Principal: server.DefaultPrincipal, Credentials: server.DefaultCredentials}
	if err := ws.Write(ctx, websocket.MessageText, wire.Encode(hello)); err != nil {
		t.Fatal(err)
	}
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wire.Decode(b)
	if err != nil || w.T != wire.TWelcome || w.PingMS != 50 || w.RetentionMS != 1000 {
		t.Fatalf("welcome %+v, %v: want ping 50, retention 1000", w, err)
	}
	if es := log.Events().Kind(history.KindSessionCreate); len(es) != 1 || es[0].Server != "r1" {
		t.Fatalf("session.create events:\n%s", log.Events())
	}
	if _, err := fakeserver.Start("nope", "x", log, fakeserver.Config{}); err == nil {
		t.Fatal("unknown kind started")
	}
}

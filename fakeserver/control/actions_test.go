package control

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
)

// testActed records what the test kind's actions were asked.
var testActed struct {
	sync.Mutex
	got []string
}

type greetArgs struct {
	Who string `yaml:"who"`
}

func init() {
	fakeserver.RegisterKind(fakeserver.Kind{Name: "control-test-kind", Protocol: "test", Scheme: "test",
		Start: func(name string, rec history.Recorder, cfg fakeserver.Config) (fakeserver.Server, error) {
			return fakeserver.Start("session", name, rec, cfg)
		},
		Actions: map[string]fakeserver.Action{
			"greet": {Doc: "test", Args: func() any { return &greetArgs{} }, Do: func(_ context.Context, s fakeserver.Server, args any, env fakeserver.Env) error {
				u, _ := env.URL("s2")
				testActed.Lock()
				testActed.got = append(testActed.got, s.Name()+" greets "+args.(*greetArgs).Who+" at "+u)
				testActed.Unlock()
				return nil
			}},
			"refuse": {Doc: "test", Do: func(context.Context, fakeserver.Server, any, fakeserver.Env) error {
				return errors.New("not now")
			}},
		}})
}

// A kind's own action runs on the hosted server through the one action
// endpoint, with its attributes and the run's URLs, and a remote handle
// hands fakeserver.Do to it.
func TestActionEndpoint(t *testing.T) {
	testActed.Lock()
	testActed.got = nil // the kind is registered once for the process; -count reruns this test
	testActed.Unlock()
	_, c := host(t, ServerConfig{Name: "s1", Kind: "control-test-kind"})
	remote := NewServer("s1", "127.0.0.1:1", c, nil)
	env := fakeserver.Env{URL: func(n string) (string, bool) { return "test://" + n, true }, Names: []string{"s1", "s2"}}
	if err := fakeserver.Do(tctx(t), "control-test-kind", "greet", remote, &greetArgs{Who: "all"}, env); err != nil {
		t.Fatal(err)
	}
	testActed.Lock()
	got := strings.Join(testActed.got, ";")
	testActed.Unlock()
	if got != "s1 greets all at test://s2" {
		t.Fatalf("the action saw %q", got)
	}
	err := fakeserver.Do(tctx(t), "control-test-kind", "refuse", remote, nil, env)
	if err == nil || !strings.Contains(err.Error(), "not now") {
		t.Fatalf("an action's error comes back: got %v", err)
	}
	err = c.Act(tctx(t), "s1", "nosuch", Action{})
	if err == nil || !strings.Contains(err.Error(), `no action "nosuch"`) {
		t.Fatalf("an unknown action is refused by name: got %v", err)
	}
}

// A remote handle's URL follows its server's kind, as the runner's do
// (fakeserver.URL): not a WebSocket URL for a server of another protocol.
func TestRemoteURLFollowsKind(t *testing.T) {
	remote := NewServer("s1", "10.0.0.2:7000", nil, nil)
	if got := remote.URL(); got != fakeserver.URL("", "10.0.0.2:7000") || !strings.HasPrefix(got, "ws://") {
		t.Fatalf("session kind: URL %q", got)
	}
	remote.SetKind("control-test-kind")
	if got := remote.URL(); got != "test://10.0.0.2:7000" || remote.Kind() != "control-test-kind" {
		t.Fatalf("control-test-kind: URL %q, kind %q", got, remote.Kind())
	}
}

// The capabilities go through the same endpoint: their args are checked,
// a server lacking one says so, and the routes they once had are gone.
func TestCapabilitiesThroughTheActionEndpoint(t *testing.T) {
	_, c := host(t, ServerConfig{Name: "s1"}, ServerConfig{Name: "t1", Kind: "control-test-kind"})
	ctx := tctx(t)
	var out struct {
		Seq int64 `json:"seq"`
	}
	if err := c.capability(ctx, "s1", ActPublish, Publish{Topic: "t"}, &out); err != nil || out.Seq != 1 {
		t.Fatalf("publish through the action endpoint: seq %d, %v", out.Seq, err)
	}
	if err := c.capability(ctx, "s1", ActPublish, map[string]int{"topic": 3}, nil); err == nil || !strings.Contains(err.Error(), "publish needs args {topic, data}") {
		t.Errorf("publish with bad args: %v", err)
	}
	if err := c.capability(ctx, "s1", ActPublish, nil, nil); err == nil || !strings.Contains(err.Error(), "publish needs args") {
		t.Errorf("publish without args: %v", err)
	}
	if err := c.capability(ctx, "s1", ActCloseSessions, nil, nil); err != nil {
		t.Errorf("close_sessions: %v", err)
	}
	// migrate reaches the session server, which has no peers yet
	if _, err := c.Migrate(ctx, "s1", "s2", 0); err == nil || !strings.Contains(err.Error(), "server s1 has no peers to migrate to") {
		t.Errorf("migrate reaches the session server: %v", err)
	}
	if n, err := c.CancelMigration(ctx, "s1"); err != nil || n != 0 {
		t.Errorf("migrate_cancel: %d, %v", n, err)
	}
	if err := c.PaceRows(ctx, "s1", 5*time.Millisecond); err != nil {
		t.Errorf("pace_rows: %v", err)
	}
	// the test kind's server is a session server too: a capability is
	// what the server can do, whatever its kind
	if _, err := c.Publish(ctx, "t1", "t", nil); err != nil {
		t.Errorf("publish on another kind's session server: %v", err)
	}
	for _, old := range []string{"/publish", "/close", "/migrate", "/migrate/cancel", "/pace"} {
		err := c.call(ctx, http.MethodPost, "/servers/s1"+old, struct{}{}, nil)
		var se *StatusError
		if !errors.As(err, &se) || (se.Status != http.StatusNotFound && se.Status != http.StatusMethodNotAllowed) {
			t.Errorf("POST /servers/s1%s: %v, want 404 (moved into the actions endpoint)", old, err)
		}
	}
}

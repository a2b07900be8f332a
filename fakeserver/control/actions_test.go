package control

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

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

package fakeserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// stubServer is a Server that starts nothing: the registry tests need a
// handle, not a listener.
type stubServer struct{ name string }

func (s *stubServer) Name() string { return s.name }
func (s *stubServer) Addr() string { return "127.0.0.1:1" }
func (s *stubServer) URL() string  { return "stub://127.0.0.1:1" }
func (s *stubServer) Close() error { return nil }

// wrapper stands for another server, as a killable handle does: nil while
// killed.
type wrapper struct {
	stubServer
	live Server
}

func (w *wrapper) Unwrap() Server { return w.live }

func stubStart(name string, _ history.Recorder, _ Config) (Server, error) {
	return &stubServer{name: name}, nil
}

// mustPanic runs f and returns what it panicked with, failing the test
// when it did not panic.
func mustPanic(t *testing.T, what string, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("%s: did not panic", what)
			return
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

type testArgs struct {
	Topic string `yaml:"topic"`
}

func TestRegisterKindIsLookedUpAndStarted(t *testing.T) {
	const name = "test-kind-tcp"
	ensureKind(Kind{Name: name, Protocol: "test-proto", Scheme: "tcp", Start: stubStart})
	k, ok := LookupKind(name)
	if !ok {
		t.Fatalf("kind %q not found (kinds: %v)", name, Kinds())
	}
	if k.Name != name || k.Protocol != "test-proto" || k.Scheme != "tcp" || k.Path != "" || k.Start == nil {
		t.Errorf("kind = %+v", k)
	}
	if !slices.Contains(Kinds(), name) || !slices.IsSorted(Kinds()) {
		t.Errorf("kinds %v: want %q among them, sorted", Kinds(), name)
	}
	srv, err := Start(name, "t1", history.NewLog(history.NewClock()), Config{})
	if err != nil || srv.Name() != "t1" {
		t.Fatalf("start: %v, %v", srv, err)
	}
	// No path: the scheme and the address only.
	if got := URL(name, "127.0.0.1:4222"); got != "tcp://127.0.0.1:4222" {
		t.Errorf("URL = %q, want tcp://127.0.0.1:4222", got)
	}
	if _, ok := LookupKind("test-kind-never-registered"); ok {
		t.Error("an unregistered kind was found")
	}
}

// A WebSocket kind of faultline's own protocol (the session and platform
// packs register theirs so) gets ws:// URLs with its path.
func TestOwnProtocolWebSocketKindURL(t *testing.T) {
	const name = "test-kind-ws"
	ensureKind(Kind{Name: name, Protocol: OwnProtocol, Scheme: "ws", Path: "/", Start: stubStart})
	k, ok := LookupKind(name)
	if !ok {
		t.Fatalf("kind %q not found", name)
	}
	if k.Protocol != OwnProtocol || OwnProtocol != "faultline" || k.Scheme != "ws" || k.Path != "/" || len(k.Actions) != 0 {
		t.Errorf("kind = %+v: want protocol faultline, scheme ws, path /, no actions", k)
	}
	if got := URL(name, "127.0.0.1:80"); got != "ws://127.0.0.1:80/" {
		t.Errorf("URL = %q", got)
	}
	// An unknown kind gets the WebSocket URL it always had.
	if got := URL("test-kind-unknown", "h:2"); got != "ws://h:2/" {
		t.Errorf("URL of an unknown kind = %q", got)
	}
}

func TestRegisterKindRefusesAnIncompleteKind(t *testing.T) {
	full := Kind{Name: "test-kind-incomplete", Protocol: "p", Scheme: "tcp", Start: stubStart}
	for _, tc := range []struct {
		what string
		edit func(*Kind)
	}{
		{"no name", func(k *Kind) { k.Name = "" }},
		{"no protocol", func(k *Kind) { k.Protocol = "" }},
		{"no scheme", func(k *Kind) { k.Scheme = "" }},
		{"no start", func(k *Kind) { k.Start = nil }},
	} {
		k := full
		tc.edit(&k)
		msg := mustPanic(t, tc.what, func() { RegisterKind(k) })
		if !strings.Contains(msg, "RegisterKind needs") {
			t.Errorf("%s: panic %q", tc.what, msg)
		}
	}
	if _, ok := LookupKind(full.Name); ok {
		t.Error("an incomplete kind was registered")
	}
}

func TestRegisterKindTwicePanics(t *testing.T) {
	const name = "test-kind-twice"
	first := Kind{Name: name, Protocol: "p1", Scheme: "tcp", Start: stubStart}
	ensureKind(first)
	msg := mustPanic(t, "a second RegisterKind", func() {
		RegisterKind(Kind{Name: name, Protocol: "p2", Scheme: "udp", Start: stubStart})
	})
	if !strings.Contains(msg, "registered twice: "+name) {
		t.Errorf("panic %q does not name the kind", msg)
	}
	// The first registration stands.
	if k, _ := LookupKind(name); k.Protocol != "p1" || k.Scheme != "tcp" {
		t.Errorf("kind = %+v: the first registration was replaced", k)
	}
}

// A kind's own actions share one namespace with the capabilities (one
// control endpoint serves both): a clash is refused at registration.
func TestRegisterKindRefusesACapabilityName(t *testing.T) {
	for _, c := range Capabilities {
		msg := mustPanic(t, "an action named "+c, func() {
			RegisterKind(Kind{Name: "test-kind-clash-" + c, Protocol: "p", Scheme: "tcp", Start: stubStart,
				Actions: map[string]Action{c: {Doc: "clash"}}})
		})
		if !strings.Contains(msg, "capability "+c) {
			t.Errorf("panic %q does not name the capability %s", msg, c)
		}
		if _, ok := LookupKind("test-kind-clash-" + c); ok {
			t.Errorf("the kind with an action %s was registered", c)
		}
	}
}

func TestActionNamesAndArgs(t *testing.T) {
	const name = "test-kind-actions"
	noop := func(context.Context, Server, any, Env) error { return nil }
	ensureKind(Kind{Name: name, Protocol: "p", Scheme: "tcp", Start: stubStart, Actions: map[string]Action{
		"zeta":  {Doc: "a flag", Do: noop},
		"alpha": {Doc: "with attributes", Args: func() any { return &testArgs{} }, Do: noop},
		"mid":   {Doc: "a flag", Do: noop},
	}})
	if got := ActionNames(name); !slices.Equal(got, []string{"alpha", "mid", "zeta"}) {
		t.Errorf("ActionNames = %v, want sorted [alpha mid zeta]", got)
	}
	for _, k := range []string{"session", "test-kind-unknown"} {
		if got := ActionNames(k); got == nil || len(got) != 0 {
			t.Errorf("ActionNames(%q) = %#v, want empty", k, got)
		}
	}

	a1, ok := ActionArgs(name, "alpha")
	if !ok {
		t.Fatal("alpha: not found")
	}
	p1, isArgs := a1.(*testArgs)
	if !isArgs || p1 == nil {
		t.Fatalf("alpha args = %#v, want a *testArgs", a1)
	}
	p1.Topic = "written"
	a2, _ := ActionArgs(name, "alpha")
	if p2 := a2.(*testArgs); p2 == p1 || p2.Topic != "" {
		t.Errorf("ActionArgs must give a fresh struct each call: %p %p %+v", p1, p2, p2)
	}
	if args, ok := ActionArgs(name, "zeta"); !ok || args != nil {
		t.Errorf("flag action: args %#v, ok %v; want nil, true", args, ok)
	}
	for _, tc := range [][2]string{{name, "nope"}, {name, ""}, {"session", "alpha"}, {"test-kind-unknown", "alpha"}} {
		if args, ok := ActionArgs(tc[0], tc[1]); ok || args != nil {
			t.Errorf("ActionArgs(%q, %q) = %#v, %v; want nil, false", tc[0], tc[1], args, ok)
		}
	}
}

// pokeArgs are the test action's attributes; the action records the server
// it reached in got and returns err.
type pokeArgs struct {
	Topic string `yaml:"topic"`
	got   []Server
	err   error
}

// pokeKind registers (once: the registry outlives a -count run) a kind whose
// one action "poke" records what it was given.
func pokeKind(name string) {
	ensureKind(Kind{Name: name, Protocol: "p", Scheme: "tcp", Start: stubStart, Actions: map[string]Action{
		"poke": {Args: func() any { return &pokeArgs{} }, Do: func(ctx context.Context, s Server, args any, env Env) error {
			if ctx.Value(ctxKey{}) != "v" {
				return errors.New("poke: the context was not passed through")
			}
			if u, ok := env.URL("s2"); !ok || u != "tcp://s2" {
				return fmt.Errorf("poke: env.URL gave %q, %v", u, ok)
			}
			a, ok := args.(*pokeArgs)
			if !ok {
				return fmt.Errorf("poke: args %#v", args)
			}
			a.got = append(a.got, s)
			return a.err
		}},
	}})
}

// ensureKind registers a test kind unless an earlier run of the test did.
func ensureKind(k Kind) {
	if _, ok := LookupKind(k.Name); !ok {
		RegisterKind(k)
	}
}

type ctxKey struct{}

func TestDoReachesTheLiveServerBehindWrappers(t *testing.T) {
	const name = "test-kind-do"
	pokeKind(name)
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	env := Env{URL: func(s string) (string, bool) { return "tcp://" + s, true }}

	live := &stubServer{name: "s1"}
	for _, tc := range []struct {
		what string
		s    Server
	}{
		{"the server itself", live},
		{"one wrapper", &wrapper{live: live}},
		{"a wrapper around a wrapper", &wrapper{live: &wrapper{live: live}}},
	} {
		args := &pokeArgs{Topic: "t"}
		if err := Do(ctx, name, "poke", tc.s, args, env); err != nil {
			t.Errorf("%s: %v", tc.what, err)
		}
		if len(args.got) != 1 || args.got[0] != live {
			t.Errorf("%s: the action got %v, want the live server", tc.what, args.got)
		}
	}
}

func TestDoOnAKilledServerIsAnError(t *testing.T) {
	const name = "test-kind-killed"
	pokeKind(name)
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	env := Env{URL: func(s string) (string, bool) { return "tcp://" + s, true }}
	for _, s := range []Server{&wrapper{}, &wrapper{live: &wrapper{}}} {
		args := &pokeArgs{Topic: "t"}
		err := Do(ctx, name, "poke", s, args, env)
		if err == nil || !strings.Contains(err.Error(), "poke") || !strings.Contains(err.Error(), "killed") {
			t.Errorf("Do on a killed server: %v, want an error naming the action and the kill", err)
		}
		if len(args.got) != 0 {
			t.Errorf("the action ran on a killed server: %v", args.got)
		}
	}
}

func TestDoUnknownActionAndActionErrors(t *testing.T) {
	const name = "test-kind-do-errors"
	boom := errors.New("boom")
	pokeKind(name)
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	env := Env{URL: func(s string) (string, bool) { return "tcp://" + s, true }}
	live := &stubServer{name: "s1"}

	for _, tc := range [][2]string{{name, "prod"}, {"session", "poke"}, {"test-kind-unknown", "poke"}} {
		err := Do(ctx, tc[0], tc[1], live, nil, env)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("server kind %q has no action %q", tc[0], tc[1])) {
			t.Errorf("Do(%q, %q) = %v, want an error naming kind and action", tc[0], tc[1], err)
		}
	}
	if err := Do(ctx, name, "poke", &wrapper{live: live}, &pokeArgs{Topic: "t", err: boom}, env); !errors.Is(err, boom) {
		t.Errorf("the action's own error: got %v, want %v", err, boom)
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// swapScenario is a NATS scenario whose line 9 is a server step with one of
// the fake server's own actions (ACTION); s2 is a session server.
const swapScenario = `name: swap
covers: [R8]
servers:
  - {name: s1, kind: nats}
  - {name: s2}
client:
  servers: [s1]
steps:
  - {at: 100ms, server: s1, ACTION: true}
  - {at: 0s, client: connect}
  - {at: 200ms, client: close}
expect:
  - {check: deliberate_close, requirement: R8, by: client}
`

func swapLoad(t *testing.T, action string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse("swap.yaml", []byte(strings.Replace(swapScenario, "ACTION", action, 1)), runner.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestServerKindFlagSet(t *testing.T) {
	var k kindSwaps
	if k.String() != "" {
		t.Errorf("empty: %q", k.String())
	}
	for _, v := range []string{"nats=nats-server", "nats-server=nats", "session=session"} {
		if err := k.Set(v); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
	}
	if got := k.String(); got != "nats-server=nats,nats=nats-server,session=session" {
		t.Errorf("String = %q", got)
	}
	if err := k.Set("nats=nats"); err != nil || k["nats"] != "nats" {
		t.Errorf("a later swap of the same kind: %v, %v", err, k)
	}

	for _, tc := range []struct{ v, want string }{
		{"nats", `want FROM=TO, got "nats"`},
		{"=nats", `want FROM=TO, got "=nats"`},
		{"nats=", `want FROM=TO, got "nats="`},
		{"", `want FROM=TO, got ""`},
		{"nope=nats", `unknown server kind "nope" (kinds: `},
		{"nats=nope", `unknown server kind "nope" (kinds: `},
		{"nats=nats-server=x", `unknown server kind "nats-server=x"`},
	} {
		var k kindSwaps
		err := k.Set(tc.v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%q) = %v, want %q", tc.v, err, tc.want)
			continue
		}
		if strings.HasPrefix(tc.want, "unknown") {
			for _, kind := range []string{"nats", "nats-server", "session"} {
				if !strings.Contains(err.Error(), kind) {
					t.Errorf("Set(%q): %v does not list kind %s", tc.v, err, kind)
				}
			}
		}
		if len(k) != 0 {
			t.Errorf("Set(%q) refused but kept %v", tc.v, k)
		}
	}
}

func TestServerKindApplySwapsKinds(t *testing.T) {
	sc := swapLoad(t, "lame_duck") // both NATS kinds have lame_duck
	k := kindSwaps{"nats": "nats-server"}
	if err := k.apply([]*scenario.Scenario{sc}); err != nil {
		t.Fatal(err)
	}
	if s1, _ := sc.Server("s1"); s1.Kind != "nats-server" {
		t.Errorf("s1 kind %q, want nats-server", s1.Kind)
	}
	if s2, _ := sc.Server("s2"); s2.Kind != "session" {
		t.Errorf("s2 kind %q: a kind not named must stay", s2.Kind)
	}

	// Swaps are not chained: both ways at once exchange the kinds.
	sc = swapLoad(t, "lame_duck")
	sc.Servers[1].Kind = "nats-server"
	if err := (kindSwaps{"nats": "nats-server", "nats-server": "nats"}).apply([]*scenario.Scenario{sc}); err != nil {
		t.Fatal(err)
	}
	if sc.Servers[0].Kind != "nats-server" || sc.Servers[1].Kind != "nats" {
		t.Errorf("kinds %q, %q: want nats-server, nats", sc.Servers[0].Kind, sc.Servers[1].Kind)
	}

	// No swap: nothing changes, nothing is refused.
	sc = swapLoad(t, "withhold_pongs")
	if err := (kindSwaps{}).apply([]*scenario.Scenario{sc}); err != nil || sc.Servers[0].Kind != "nats" {
		t.Errorf("no swaps: %v, kind %q", err, sc.Servers[0].Kind)
	}
}

func TestServerKindApplyRefusesAnActionTheNewKindLacks(t *testing.T) {
	for _, action := range []string{"withhold_pongs", "admit"} { // the fake server's levers only
		sc := swapLoad(t, action)
		err := (kindSwaps{"nats": "nats-server"}).apply([]*scenario.Scenario{sc})
		want := "swap.yaml:9:5: server s1 of kind nats-server has no action " + action
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: got %v, want %q…", action, err, want)
		}
	}
}

func TestServerKindFlagOfRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "swap.yaml"), []byte(strings.Replace(swapScenario, "ACTION", "withhold_pongs", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(append([]string{"run", "--scenarios", dir, "--report", t.TempDir()}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("--server-kind", "nats=no-such-kind"); code != 2 || !strings.Contains(out, `unknown server kind "no-such-kind"`) {
		t.Errorf("unknown kind: exit %d\n%s", code, out)
	}
	if code, out := run("--server-kind", "nats"); code != 2 || !strings.Contains(out, `want FROM=TO`) {
		t.Errorf("no =: exit %d\n%s", code, out)
	}
	code, out := run("--server-kind", "nats=nats-server")
	want := "faultline: --server-kind: " + filepath.Join(dir, "swap.yaml") + ":9:5: server s1 of kind nats-server has no action withhold_pongs"
	if code != 2 || !strings.Contains(out, want) {
		t.Errorf("exit %d, want 2 and %q:\n%s", code, want, out)
	}
}

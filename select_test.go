package faultline

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/scenario"
)

func builtinSet(t *testing.T) []*scenario.Scenario {
	t.Helper()
	scs, err := defaults().load()
	if err != nil || len(scs) == 0 {
		t.Fatalf("built-in set: %d, %v", len(scs), err)
	}
	return scs
}

func names(scs []*scenario.Scenario) string {
	var out []string
	for _, sc := range scs {
		out = append(out, sc.Name)
	}
	return strings.Join(out, " ")
}

func TestPickByPathAndLabel(t *testing.T) {
	all := builtinSet(t)
	for _, tc := range []struct {
		paths []string
		label string
		want  string
	}{
		{[]string{"scenarios/reconnect/server-close.yaml"}, "", "server-close"},
		{[]string{"./scenarios/reconnect/", "scenarios/process"}, "close", "client-close server-close"},
		{nil, "reconnect && close", "grpc-close mqtt-close nats-close client-close server-close"},
		{[]string{"scenarios/process"}, "", "process-kill-failover"},
	} {
		got, err := pick(all, tc.paths, tc.label)
		if err != nil || names(got) != tc.want {
			t.Errorf("pick(%q, %q) = %q, %v; want %q", tc.paths, tc.label, names(got), err, tc.want)
		}
	}
	if got, _ := pick(all, nil, ""); len(got) != len(all) {
		t.Errorf("no paths, no label: %d of %d", len(got), len(all))
	}
}

// A path is a folder or a file, never a prefix of a name.
func TestPickPathsAreFoldersOrFiles(t *testing.T) {
	all := builtinSet(t)
	for _, p := range []string{"scenarios/reconn", "scenarios/reconnect/server", "reconnect", "scenarios/nope"} {
		if got, err := pick(all, []string{p}, ""); err == nil {
			t.Errorf("pick(%q) = %q, want an error", p, names(got))
		}
	}
	if _, err := pick(all, []string{"scenarios/reconnect"}, "no-such-label"); err == nil || !strings.Contains(err.Error(), "no scenario matches") {
		t.Errorf("a label that matches nothing: %v", err)
	}
	if _, err := pick(all, nil, "a && ("); err == nil {
		t.Error("a bad label expression must be an error")
	}
}

func TestSpokenKeepsTheSDKsProtocol(t *testing.T) {
	all := builtinSet(t)
	own, left := spoken(godriver.Hello(), all)
	nats, _ := spoken(driver.Hello{SDK: "nats.go", Protocol: "nats"}, all)
	if len(own) == 0 || len(nats) == 0 || len(own)+len(left) != len(all) {
		t.Fatalf("own %d, left %d, nats %d of %d", len(own), len(left), len(nats), len(all))
	}
	for _, sc := range nats {
		if !strings.HasPrefix(sc.File, "scenarios/nats/") {
			t.Errorf("a NATS client kept %s", sc.File)
		}
	}
	for _, sc := range own {
		if strings.HasPrefix(sc.File, "scenarios/nats/") {
			t.Errorf("the Go engine kept %s", sc.File)
		}
	}
}

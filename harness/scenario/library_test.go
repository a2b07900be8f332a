package scenario

import (
	"strings"
	"testing"
)

// client.library: by protocol, options passed to that protocol's drivers;
// a protocol no server of the scenario speaks is an error at its line.
func TestClientLibrary(t *testing.T) {
	reg := testRegistry()
	reg.Kinds = []string{"session", "rpc"}
	reg.Protocol = func(kind string) string {
		if kind == "rpc" {
			return "grpc"
		}
		return "faultline"
	}
	src := func(library string) []byte {
		return []byte(`name: lib
covers: [R4]
servers:
  - {name: s1, kind: rpc}
client:
  servers: [s1]
  library: ` + library + `
steps:
  - {at: 0s, client: connect}
duration: 1s
expect:
  - {check: reconnect_window, requirement: R4}
`)
	}
	sc, err := Parse("lib.yaml", src(`{grpc: {idle_connect: false, lb_policy: round_robin}}`), reg)
	if err != nil {
		t.Fatal(err)
	}
	if g := sc.Client.Library["grpc"]; g["idle_connect"] != false || g["lb_policy"] != "round_robin" {
		t.Fatalf("library %v", sc.Client.Library)
	}
	_, err = Parse("lib.yaml", src(`{mqtt: {qos: 1}}`), reg)
	if err == nil || !strings.Contains(err.Error(), "lib.yaml:7:") || !strings.Contains(err.Error(), "client.library.mqtt: no server of this scenario speaks mqtt (its servers speak: grpc)") {
		t.Fatalf("a protocol no server speaks: %v", err)
	}
	_, err = Parse("lib.yaml", src(`{grpc: 3}`), reg)
	if err == nil || !strings.Contains(err.Error(), "expected a mapping") {
		t.Fatalf("a library entry that is no mapping: %v", err)
	}
}

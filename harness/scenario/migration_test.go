package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// mhead is a valid migration scenario's first lines (1-6); cases append
// steps from line 7 on.
const mhead = `covers: [M1]
servers: [{name: s1}, {name: s2}, {name: s3}]
client: {servers: [s1], migration: {timeout: 800ms}}
steps:
  - {at: 0s, client: connect}
  - {at: 100ms, client: {request: {rows: 500, every: 3ms}}}
`

const mtail = `expect:
  - {check: session_preserved, requirement: M1}
`

func TestMigrationGood(t *testing.T) {
	src := mhead + `  - {at: 1s, server: s1, migrate: {to: s2, hold: 300ms}}
  - {at: 1100ms, server: s1, migrate: {to: s3}}
  - {at: 1200ms, server: s1, migrate: {cancel: true}}
  - {at: 1300ms, client: {cancel: true}, only: [0]}
` + mtail
	sc, err := Parse("good.yaml", []byte(src), testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Client.MigrationOn() || sc.Client.Migration.Timeout != 800*time.Millisecond {
		t.Errorf("migration block: %+v", sc.Client.Migration)
	}
	if r := sc.Steps[1].Client; r.Op != "request" || r.Rows != 500 || r.Every != 3*time.Millisecond {
		t.Errorf("request: %+v", r)
	}
	if m := sc.Steps[2].Migrate; m == nil || m.To != "s2" || m.Hold != 300*time.Millisecond || m.Cancel || sc.Steps[2].Server != "s1" {
		t.Errorf("migrate: %+v", sc.Steps[2])
	}
	if m := sc.Steps[3].Migrate; m == nil || m.To != "s3" {
		t.Errorf("re-target: %+v", sc.Steps[3])
	}
	if m := sc.Steps[4].Migrate; m == nil || !m.Cancel || m.To != "" {
		t.Errorf("cancel: %+v", sc.Steps[4])
	}
	if c := sc.Steps[5].Client; c.Op != "cancel" || len(c.Only) != 1 {
		t.Errorf("client cancel: %+v", c)
	}
	off, err := Parse("off.yaml", []byte(strings.Replace(mhead, "migration: {timeout: 800ms}", "migration: {enabled: false}", 1)+mtail), testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if off.Client.MigrationOn() {
		t.Error("migration.enabled false must switch it off")
	}
}

func TestMigrationBad(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"migrate to unknown", mhead + "  - {at: 1s, server: s1, migrate: {to: s9}}\n" + mtail,
			`bad.yaml:7:40: unknown migration target "s9" (declared servers: s1, s2, s3)`},
		{"migrate to itself", mhead + "  - {at: 1s, server: s1, migrate: {to: s1}}\n" + mtail,
			`bad.yaml:7:40: server s1 cannot migrate its sessions to itself`},
		{"migrate empty", mhead + "  - {at: 1s, server: s1, migrate: {}}\n" + mtail,
			`bad.yaml:7:35: migrate needs to (the target server) or cancel: true`},
		{"migrate both", mhead + "  - {at: 1s, server: s1, migrate: {to: s2, cancel: true}}\n" + mtail,
			`bad.yaml:7:44: migrate has both to and cancel: use one step each`},
		{"migrate cancel false", mhead + "  - {at: 1s, server: s1, migrate: {cancel: false}}\n" + mtail,
			`bad.yaml:7:44: migrate.cancel: false does nothing; remove it`},
		{"migrate cancel with hold", mhead + "  - {at: 1s, server: s1, migrate: {cancel: true, hold: 1s}}\n" + mtail,
			`bad.yaml:7:50: migrate.hold goes with to: a cancel holds nothing`},
		{"migrate unknown key", mhead + "  - {at: 1s, server: s1, migrate: {to: s2, hodl: 1s}}\n" + mtail,
			`bad.yaml:7:44: unknown key "hodl" in migrate (did you mean "hold"?)`},
		{"migrate bad hold", mhead + "  - {at: 1s, server: s1, migrate: {to: s2, hold: soon}}\n" + mtail,
			`bad.yaml:7:50: bad duration "soon" for migrate.hold: a duration is a number and a unit, e.g. 500ms, 2s, 1m30s`},
		{"migrate and publish", mhead + "  - {at: 1s, server: s1, publish: {topic: a}, migrate: {to: s2}}\n" + mtail,
			`bad.yaml:7:47: server step has both publish and migrate: use one step each`},
		{"migrate in a client step", mhead + "  - {at: 1s, client: connect, migrate: {to: s2}}\n" + mtail,
			`bad.yaml:7:31: key "migrate" belongs in server steps, not client steps`},
		{"request without rows", mhead + "  - {at: 1s, client: {request: {every: 2ms}}}\n" + mtail,
			`bad.yaml:7:32: request needs rows (how many rows the server streams)`},
		{"request zero rows", mhead + "  - {at: 1s, client: {request: {rows: 0}}}\n" + mtail,
			`bad.yaml:7:39: request rows must be between 1 and 1000000, got 0`},
		{"request zero every", mhead + "  - {at: 1s, client: {request: {rows: 5, every: 0s}}}\n" + mtail,
			`bad.yaml:7:49: request every must be positive (omit it for 2ms)`},
		{"request unknown key", mhead + "  - {at: 1s, client: {request: {rows: 5, evry: 1ms}}}\n" + mtail,
			`bad.yaml:7:42: unknown key "evry" in client.request (did you mean "every"?)`},
		{"request scalar", mhead + "  - {at: 1s, client: request}\n" + mtail,
			`bad.yaml:7:22: client request needs its argument: {request: ...}`},
		{"request rows not a number", mhead + "  - {at: 1s, client: {request: {rows: many}}}\n" + mtail,
			`bad.yaml:7:39: expected an integer for request.rows, got "many"`},
		{"cancel scalar", mhead + "  - {at: 1s, client: cancel}\n" + mtail,
			`bad.yaml:7:22: client cancel is written {cancel: true}`},
		{"cancel false", mhead + "  - {at: 1s, client: {cancel: false}}\n" + mtail,
			`bad.yaml:7:31: client.cancel: false does nothing; remove it`},
		{"cancel before any request", strings.Replace(mhead, "at: 100ms, client: {request", "at: 2s, client: {request", 1) +
			"  - {at: 1s, client: {cancel: true}}\n" + mtail,
			`bad.yaml:7:5: cancel at 1s has no request before it to cancel`},
		{"migration enabled not a bool", strings.Replace(mhead, "migration: {timeout: 800ms}", "migration: {enabled: maybe}", 1) + mtail,
			`bad.yaml:3:46: expected true or false for client.migration.enabled, got "maybe"`},
		{"migration unknown key", strings.Replace(mhead, "migration: {timeout: 800ms}", "migration: {timout: 1s}", 1) + mtail,
			`bad.yaml:3:37: unknown key "timout" in client.migration (did you mean "timeout"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("bad.yaml", []byte(tc.src), testRegistry())
			if sc != nil {
				t.Errorf("a bad file gave a scenario")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v (%T) is not Errors", err, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("source:\n%s\ngot:\n%s\nwant:\n%s", tc.src, got, tc.want)
			}
		})
	}
}

func TestMigrationNeedsSessionServers(t *testing.T) {
	reg := testRegistry()
	reg.Kinds = []string{"instance", "session"}
	src := `covers: [M1]
servers: [{name: s1}, {name: i1, kind: instance}]
client: {servers: [s1]}
steps:
  - {at: 1s, server: s1, migrate: {to: i1}}
` + mtail
	_, err := Parse("kind.yaml", []byte(src), reg)
	if err == nil || err.Error() != `kind.yaml:5:40: migration target "i1" is of kind instance: sessions migrate to session servers` {
		t.Fatalf("got %v", err)
	}
}

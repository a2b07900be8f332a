package scenario_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/scenario"
)

// shape is a scenario around one expect entry: a session client (or a
// router) over s1..s3, connecting at 0s, then steps.
type shape struct {
	router bool
	one    bool   // the client is given s1 alone
	client string // extra keys of the client mapping, e.g. ", failover: {auto: true}"
	steps  []string
	expect string // the entry's keys after check and requirement
}

// src is the file; the expect entry is on the line entryLine reports.
func (s shape) src(check, req string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "covers: [%s]\n", req)
	if s.router {
		b.WriteString("servers: [{name: s1, kind: instance}, {name: s2, kind: instance}, {name: s3, kind: instance}]\n")
		b.WriteString("client: {servers: [s1, s2], router: {request_timeout: 1s}" + s.client + "}\n")
	} else {
		given := "[s1, s2]"
		if s.one {
			given = "[s1]"
		}
		b.WriteString("servers: [{name: s1}, {name: s2}, {name: s3}]\n")
		b.WriteString("client: {servers: " + given + s.client + "}\n")
	}
	b.WriteString("steps:\n  - {at: 0s, client: connect}\n")
	for _, st := range s.steps {
		b.WriteString("  - " + st + "\n")
	}
	b.WriteString("duration: 5s\nexpect:\n")
	fmt.Fprintf(&b, "  - {check: %s, requirement: %s%s}\n", check, req, s.expect)
	return b.String()
}

func (s shape) entryLine() int { return 8 + len(s.steps) }

var (
	cut       = "{at: 1s, link: s1, fault: cut, for: 500ms}"
	slow      = "{at: 1s, link: s1, fault: slow, latency: 50ms, for: 500ms}"
	send      = "{at: 500ms, client: {send: {count: 10, every: 10ms}}}"
	request   = "{at: 100ms, client: {request: {rows: 500, every: 3ms}}}"
	migrate   = "{at: 1s, server: s1, migrate: {to: s2}}"
	cancelReq = "{at: 1100ms, client: {cancel: true}}"
)

// Each check's static precondition: the scenario that lacks what it needs
// is refused at the check with what is missing; the same scenario given it
// loads.
var preconditionCases = []struct {
	check, req    string
	refused, good shape
	why           string
}{
	{"loss_detected", "R1", shape{steps: []string{slow}}, shape{steps: []string{cut}},
		"it needs a loss fault (cut, reset, blackhole or down) on a link, and the timeline has none"},
	{"reconnect_window", "R4", shape{steps: []string{slow}}, shape{steps: []string{cut}},
		"it needs a loss fault (cut, reset, blackhole or down) on a link, and the timeline has none"},
	{"no_reconnect", "R7", shape{steps: []string{cut}}, shape{client: ", reconnect: {enabled: false}", steps: []string{cut}},
		"it judges a client that opted out of reconnection, and client.reconnect.enabled is true (the default): set it to false"},
	{"no_reconnect", "R7", shape{client: ", reconnect: {enabled: false}"}, shape{client: ", reconnect: {enabled: false}", steps: []string{cut}},
		"it needs a loss fault (cut, reset, blackhole or down) on a link, and the timeline has none"},
	{"hot_spot", "F3", shape{steps: []string{cut}}, shape{client: ", failover: {auto: true, load_balancing: true}", steps: []string{cut}},
		"it judges where failovers land, and client.failover.auto is off"},
	{"failover_sequence", "F1", shape{steps: []string{cut}}, shape{client: ", failover: {auto: true}", steps: []string{cut}},
		"it judges autofailover, and client.failover.auto is off"},
	{"failover_sequence", "F1", shape{client: ", failover: {auto: true, load_balancing: true}", expect: ", order: list"},
		shape{client: ", failover: {auto: true, load_balancing: true}", expect: ", order: any"},
		"order: list, but client.failover.load_balancing is on (its order is a shuffle: use order: any)"},
	{"reconnect_before_failover", "F1", shape{client: ", failover: {auto: true}, reconnect: {enabled: false}"}, shape{client: ", failover: {auto: true}"},
		"it judges reconnection and failover together: client.reconnect.enabled and client.failover.auto must both be on"},
	{"shuffle_uniform", "F3", shape{client: ", failover: {auto: true}", expect: ", alpha: 0.001"},
		shape{client: ", failover: {auto: true, load_balancing: true}", expect: ", alpha: 0.001"},
		"it judges the failover shuffle: client.failover.auto and client.failover.load_balancing must both be on"},
	{"shuffle_uniform", "F3", shape{expect: ", alpha: 0.001, at: connect"}, shape{client: ", failover: {load_balancing: true}", expect: ", alpha: 0.001, at: connect"},
		"at: connect judges the connect shuffle, and client.failover.load_balancing is off"},
	{"cascade_order", "C1", shape{}, shape{client: ", failover: {cascading: true}"},
		"it judges cascading, and client.failover.cascading is off"},
	{"cascade_scope", "C3", shape{one: true, client: ", failover: {cascading: true}"}, shape{client: ", failover: {cascading: true}"},
		"it needs at least two servers in client.servers (it has 1): a cascade moves on to the next"},
	{"round_robin", "T1", shape{steps: []string{send}}, shape{router: true, steps: []string{send}},
		"it judges a router, and the client has no router block (client.router)"},
	{"round_robin", "T1", shape{router: true, steps: []string{send}, expect: ", min_messages: 20"}, shape{router: true, steps: []string{send}, expect: ", min_messages: 10"},
		"it needs at least 20 message(s) routed (min_messages), and the timeline's client send steps send 10"},
	{"skip_ineligible", "T2", shape{router: true}, shape{router: true, steps: []string{send}},
		"it needs a client send step (messages to route), and the timeline has none"},
	{"unavailable_500", "T3", shape{router: true}, shape{router: true, steps: []string{send}},
		"it needs a client send step (messages to route), and the timeline has none"},
	{"edges_closed", "T4", shape{steps: []string{cut}}, shape{router: true, steps: []string{cut}},
		"it judges a router, and the client has no router block (client.router)"},
	{"chunk_affinity", "T5", shape{router: true, steps: []string{send}},
		shape{router: true, steps: []string{"{at: 500ms, client: {send: {count: 10, every: 10ms, chunks: 3, chunk_every: 5ms}}}"}},
		"it needs a multi-part message (a client send step with chunks: 2 or more), and the timeline has none"},
	{"discovery_membership", "T6", shape{router: true}, shape{router: true, steps: []string{"{at: 1s, discovery: {add: s3}}"}},
		"it needs a discovery step ({discovery: {add: ...}} or {discovery: {remove: ...}}), and the timeline has none"},
	{"rpc_discovery", "T6", shape{steps: []string{send}}, shape{steps: []string{send, "{at: 1s, discovery: {add: s3}}"}},
		"it needs a discovery step ({discovery: {add: ...}} or {discovery: {remove: ...}}), and the timeline has none"},
	{"publish_fate", "R3", shape{steps: []string{cut}}, shape{steps: []string{send, cut}},
		"it needs a client send step ({send: {count: N}}), and the timeline has none"},
	{"handoff_window", "M1", shape{steps: []string{request}}, shape{steps: []string{request, migrate}},
		"it needs a migration (a server step migrate: {to: ...}), and the timeline has none"},
	{"migration_no_reconnect", "M6", shape{steps: []string{request}}, shape{steps: []string{request, migrate}},
		"it needs a migration (a server step migrate: {to: ...}), and the timeline has none"},
	{"migration_failed_intact", "M5", shape{client: ", migration: {enabled: false}"}, shape{client: ", migration: {enabled: false}", steps: []string{migrate}},
		"it needs a migration (a server step migrate: {to: ...}), and the timeline has none"},
	{"rows_exactly_once", "M3", shape{steps: []string{migrate}}, shape{steps: []string{request, migrate}},
		"it needs a client request step ({request: {rows: N}}), and the timeline has none"},
	{"rows_exactly_once", "M3", shape{steps: []string{request}}, shape{steps: []string{request}, expect: ", min_interrupted: 0"},
		"min_interrupted is 1 (the default 1 unless given), and the timeline has no migration (a server step migrate: {to: ...}) to interrupt a request: add one, or set min_interrupted: 0"},
	{"cancel_acknowledged", "M4", shape{steps: []string{request, migrate}}, shape{steps: []string{request, migrate, cancelReq}},
		"it needs a client cancel step ({cancel: true}), and the timeline has none"},
	{"cancel_acknowledged", "M4", shape{steps: []string{request, cancelReq}, expect: ", during_migration: true"},
		shape{steps: []string{request, migrate, cancelReq}, expect: ", during_migration: true"},
		"during_migration is set, and the timeline has no migration (a server step migrate: {to: ...})"},
	{"no_command_lost", "M2", shape{steps: []string{migrate}}, shape{steps: []string{send, migrate}},
		"it needs a client command step (send, request, cancel or subscribe), and the timeline has none"},
	{"no_command_lost", "M2", shape{steps: []string{send}, expect: ", min_forwarded: 1"}, shape{steps: []string{send, migrate}, expect: ", min_forwarded: 1"},
		"min_forwarded or min_held is set, and the timeline has no migration (a server step migrate: {to: ...})"},
	{"exactly_once_in_order", "R3", shape{steps: []string{"{at: 0s, client: {subscribe: a}}"}, expect: ", topic: b"},
		shape{steps: []string{"{at: 0s, client: {subscribe: b}}"}, expect: ", topic: b"},
		`it needs a client step {subscribe: b}, and no step subscribes to "b"`},
	{"deliberate_close", "R8", shape{expect: ", by: client"}, shape{steps: []string{"{at: 1s, client: close}"}, expect: ", by: client"},
		"it needs a client close step ({client: close}), and the timeline has none"},
	{"at_least_once", "R3", shape{expect: ", topic: b"}, shape{steps: []string{"{at: 0s, client: {subscribe: b}}"}, expect: ", topic: b"},
		`it needs a client step {subscribe: b}, and no step subscribes to "b"`},
	{"jitter_distribution", "R2", shape{steps: []string{cut}}, shape{client: ", reconnect: {strategy: {jitter: 0.5}}", steps: []string{cut}},
		"the client declares no jitter (client.reconnect.strategy.jitter is 0): jitter_distribution tests the delays' factors against their uniform law"},
}

func TestCheckPreconditions(t *testing.T) {
	reg := realRegistry()
	for _, tc := range preconditionCases {
		t.Run(tc.check+"/"+tc.why, func(t *testing.T) {
			src := tc.refused.src(tc.check, tc.req)
			want := fmt.Sprintf("p.yaml:%d:13: check %s cannot judge %s here: %s", tc.refused.entryLine(), tc.check, tc.req, tc.why)
			if _, err := scenario.Parse("p.yaml", []byte(src), reg); err == nil || err.Error() != want {
				t.Errorf("source:\n%s\ngot:\n%v\nwant:\n%s", src, err, want)
			}
			good := tc.good.src(tc.check, tc.req)
			if _, err := scenario.Parse("p.yaml", []byte(good), reg); err != nil {
				t.Errorf("with what it needs, the scenario must load:\n%s\ngot:\n%v", good, err)
			}
		})
	}
}

// TestPreconditionsWaitForAValidFile: a precondition read off a file with
// another problem would mislead (the loss fault is there, its verb is
// misspelt): only the true problem is reported.
func TestPreconditionsWaitForAValidFile(t *testing.T) {
	src := shape{steps: []string{"{at: 1s, link: s1, fault: cutt, for: 500ms}"}}.src("loss_detected", "R1")
	_, err := scenario.Parse("p.yaml", []byte(src), realRegistry())
	if want := `p.yaml:6:31: unknown fault "cutt" (did you mean "cut"?)`; err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
}

// TestEveryShippedPreconditionIsTested: each check that states a
// precondition has a case above, so that none can change unseen.
func TestEveryShippedPreconditionIsTested(t *testing.T) {
	reg := realRegistry()
	tested := map[string]bool{}
	for _, tc := range preconditionCases {
		tested[tc.check] = true
	}
	for _, name := range reg.Checks {
		c, _ := reg.Check(name)
		if _, ok := c.(scenario.ScenarioValidator); ok && !tested[name] {
			t.Errorf("check %s states a precondition (ValidateFor) without a case in preconditionCases", name)
		}
	}
}

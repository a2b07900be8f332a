package scenario

import (
	"errors"
	"strings"
	"testing"
)

// head is a valid scenario's first lines (1-4); cases append steps and
// expect entries from line 5 on, or replace it entirely.
const head = `covers: [R1, R4]
servers: [{name: s1}, {name: s2}]
client: {servers: [s1]}
steps:
`

// tail is a valid expect section.
const tail = `expect:
  - {check: reconnect_window, requirement: R4, within: 250ms}
`

var badFiles = []struct {
	name, src, want string
}{
	{"unknown top-level key", head + "  - {at: 0s, client: connect}\n" + tail + "labls: [x]\n",
		`bad.yaml:8:1: unknown key "labls" in scenario (did you mean "labels"?)`},
	{"unknown key in a step", head + "  - {at: 0s, client: connect, ony: [0]}\n" + tail,
		`bad.yaml:5:31: unknown key "ony" in client step (did you mean "only"?)`},
	{"bad duration", head + "  - {at: 0s, client: connect}\n" + "expect:\n  - {check: reconnect_window, requirement: R4, within: abc}\n",
		`bad.yaml:7:56: bad duration "abc" for within: a duration is a number and a unit, e.g. 500ms, 2s, 1m30s`},
	{"unknown server in client.servers", strings.Replace(head, "[s1]", "[s1, s3]", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:3:24: unknown server "s3" (declared servers: s1, s2)`},
	{"unknown server in a step", head + "  - {at: 0s, server: s9, close: true}\n" + tail,
		`bad.yaml:5:22: unknown server "s9" (declared servers: s1, s2)`},
	{"unknown link in a step", head + "  - {at: 0s, link: s9, fault: cut}\n" + tail,
		`bad.yaml:5:20: unknown link "s9" (declared servers: s1, s2)`},
	{"unknown key in expect", head + "  - {at: 0s, client: connect}\n" + "expect:\n  - {check: reconnect_window, requirement: R4, withn: 1s}\n",
		`bad.yaml:7:48: unknown key "withn" in expect (did you mean "within"?)`},
	{"unknown check", head + "  - {at: 0s, client: connect}\n" + "expect:\n  - {check: reconect_window, requirement: R4}\n",
		`bad.yaml:7:13: unknown check "reconect_window" (did you mean "reconnect_window"?)`},
	{"unknown verb", head + "  - {at: 0s, link: s1, fault: cutt}\n" + tail,
		`bad.yaml:5:31: unknown fault "cutt" (did you mean "cut"?)`},
	{"bad verb attr", head + "  - {at: 0s, link: s1, fault: slow, latncy: 5ms}\n" + tail,
		`bad.yaml:5:37: unknown key "latncy" in fault slow (did you mean "latency"?)`},
	{"bad verb attr value", head + "  - {at: 0s, link: s1, fault: slow, latency: [5ms]}\n" + tail,
		`bad.yaml:5:46: expected a duration for latency, got a list`},
	{"verb attrs that fail Validate", head + "  - {at: 0s, link: s1, fault: slice, size: 0}\n" + tail,
		`bad.yaml:5:5: fault slice: size must be positive`},
	{"unknown requirement", strings.Replace(head, "R1, R4", "R1, R4, R99", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:1:18: unknown requirement "R99" (did you mean "R9"?)`},
	{"requirement not in covers", head + "  - {at: 0s, client: connect}\n" + "expect:\n  - {check: session_preserved, requirement: R3}\n",
		`bad.yaml:7:45: requirement R3 is not in covers [R1, R4]`},
	{"step with two kinds", head + "  - {at: 0s, client: connect, link: s1, fault: cut}\n" + tail,
		`bad.yaml:5:31: step has both client and link: a step is exactly one of client, server or link`},
	{"negative duration", head + "  - {at: 0s, link: s1, fault: cut, for: -1s}\n" + tail,
		`bad.yaml:5:41: negative duration "-1s" for for`},
	{"clients 0", head + "  - {at: 0s, client: connect}\n" + tail + "clients: 0\n",
		`bad.yaml:8:10: clients must be at least 1, got 0`},
	{"clients over the cap", head + "  - {at: 0s, client: connect}\n" + tail + "clients: 10001\n",
		`bad.yaml:8:10: clients must be at most 10000, got 10001`},
	{"duplicate server name", strings.Replace(head, "{name: s2}", "{name: s1}", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:2:30: duplicate server name "s1" (first at line 2, col 18)`},
	{"syntax error", head + "  - {at: 0s, client: connect\n" + tail,
		`bad.yaml:5:1: YAML syntax error: did not find expected ',' or '}'`},
	{"only index out of range", head + "  - {at: 0s, client: connect, only: [0, 1]}\n" + tail,
		`bad.yaml:5:41: only: client index 1 is out of range (clients: 1)`},
	{"duplicate key", head + "  - {at: 0s, client: connect, at: 1s}\n" + tail,
		`bad.yaml:5:31: duplicate key "at" (first at line 5, col 6)`},
	{"empty file", "", `bad.yaml:1:1: empty scenario file`},
	{"comments only", "# nothing yet\n", `bad.yaml:1:1: empty scenario file`},
	{"top level is a list", "- name: x\n", `bad.yaml:1:1: a scenario is a mapping (name: ..., covers: ..., steps: ...), got a list`},
	{"two documents", head + "  - {at: 0s, client: connect}\n" + tail + "---\nname: x\n",
		`bad.yaml:9:1: a scenario file holds one YAML document; found a second`},
	{"missing sections", "name: x\n",
		`bad.yaml:1:1: missing key "covers"` + "\n" + `bad.yaml:1:1: missing key "servers"` + "\n" +
			`bad.yaml:1:1: missing key "client"` + "\n" + `bad.yaml:1:1: missing key "expect"`},
	{"duration before a step ends", head + "  - {at: 1s, link: s1, fault: cut, for: 2s}\n" + tail + "duration: 2s\n",
		`bad.yaml:8:11: duration 2s ends before the step at line 5, which runs until 3s`},
	{"bad direction", head + "  - {at: 0s, link: s1, fault: cut, direction: up}\n" + tail,
		`bad.yaml:5:47: unknown direction "up" (both, upstream, downstream)`},
	{"heal with for", head + "  - {at: 0s, link: s1, fault: heal, for: 1s}\n" + tail,
		`bad.yaml:5:37: heal takes no for: it ends every fault on the link`},
	{"server key in a link step", head + "  - {at: 0s, link: s1, fault: cut, publish: {topic: t}}\n" + tail,
		`bad.yaml:5:36: key "publish" belongs in server steps, not link steps`},
	{"only in a server step", head + "  - {at: 0s, server: s1, close: true, only: [0]}\n" + tail,
		`bad.yaml:5:39: key "only" belongs in client steps, not server steps`},
	{"only inside client", head + "  - {at: 0s, client: {close: true, only: [0]}}\n" + tail,
		`bad.yaml:5:36: only goes at step level: {at: ..., client: ..., only: [0]}`},
	{"unknown client op", head + "  - {at: 0s, client: conect}\n" + tail,
		`bad.yaml:5:22: unknown client op "conect" (did you mean "connect"?)`},
	{"send count 0", head + "  - {at: 0s, client: {send: {count: 0}}}\n" + tail,
		`bad.yaml:5:37: send count must be at least 1, got 0`},
	{"step without at", head + "  - {client: connect}\n" + tail,
		`bad.yaml:5:5: step needs at (its offset from the start, e.g. at: 0s)`},
	{"server step without action", head + "  - {at: 0s, server: s1}\n" + tail,
		`bad.yaml:5:14: server step needs publish, close, kill, restart or migrate`},
	{"server step with two actions", head + "  - {at: 0s, server: s1, kill: true, restart: true}\n" + tail,
		`bad.yaml:5:38: server step has both kill and restart: use one step each`},
	{"kill false", head + "  - {at: 0s, server: s1, kill: false}\n" + tail,
		`bad.yaml:5:32: kill: false does nothing; remove it`},
	{"unknown key in client", strings.Replace(head, "{servers: [s1]}", "{servers: [s1], livenes: 1s}", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:3:25: unknown key "livenes" in client (did you mean "liveness"?)`},
	{"unknown key in strategy", strings.Replace(head, "{servers: [s1]}", "{servers: [s1], reconnect: {strategy: {inital: 1s}}}", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:3:48: unknown key "inital" in client.reconnect.strategy (did you mean "initial"?)`},
	{"bad nested duration", strings.Replace(head, "{servers: [s1]}", "{servers: [s1], reconnect: {timeout: 3}}", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:3:46: bad duration "3" for client.reconnect.timeout: a duration is a number and a unit, e.g. 500ms, 2s, 1m30s`},
	{"bad boolean", strings.Replace(head, "{servers: [s1]}", "{servers: [s1], failover: {auto: yes}}", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:3:42: expected true or false for client.failover.auto, got "yes"`},
	{"unknown backoff", strings.Replace(head, "{servers: [s1]}", "{servers: [s1], reconnect: {strategy: {backoff: linear}}}", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:3:57: unknown backoff "linear" (exponential, fixed)`},
	{"bad server name", strings.Replace(head, "{name: s2}", "{name: S2}", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:2:30: bad server name "S2": use [a-z0-9_-]+`},
	{"unknown server kind", strings.Replace(head, "{name: s2}", "{name: s2, kind: amqp}", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:2:40: unknown server kind "amqp" (kinds: session)`},
	{"covers is a scalar", strings.Replace(head, "[R1, R4]", "R1", 1) + "  - {at: 0s, client: connect}\n" + tail,
		`bad.yaml:1:9: expected a list for covers, got "R1"`},
	{"empty expect", head + "  - {at: 0s, client: connect}\nexpect: []\n",
		`bad.yaml:6:9: expect is empty: a scenario needs at least one check`},
	{"alias to a list where a string belongs", head + "  - {at: 0s, client: connect}\n" + tail + "labels: &l [*l]\n",
		`bad.yaml:8:13: expected a string for labels[0], got a list`},
	{"merge key", head + "  - {at: 0s, client: connect}\n" + tail + "<<: {name: x}\n",
		`bad.yaml:8:1: merge keys (<<) are not supported: write the keys out`},

	// The file's text itself.
	{"tab indentation", head + "\t- {at: 0s, client: connect}\n" + tail,
		`bad.yaml:5:1: tab in indentation: YAML indents with spaces`},
	{"not UTF-8", head + "  - {at: 0s, client: conn\xffect}\n" + tail,
		`bad.yaml:1:1: YAML syntax error: invalid leading UTF-8 octet`},
	{"binary", "\x00\x01\x02", `bad.yaml:1:1: YAML syntax error: control characters are not allowed`},
	{"key not a name", head + step0 + tail + "[a]: 1\n", `bad.yaml:8:1: a key must be a plain name, got a list`},
	{"no value", head + step0 + tail + "clients: ~\n", `bad.yaml:8:10: no value for clients`},

	// A section of the wrong shape.
	{"client is a scalar", strings.Replace(head, "{servers: [s1]}", "s1", 1) + step0 + tail,
		`bad.yaml:3:9: expected a mapping for client, got "s1"`},
	{"steps is a mapping", strings.Replace(head, "steps:\n", "steps: {at: 0s}\n", 1) + tail,
		`bad.yaml:4:8: expected a list for steps, got a mapping`},
	{"step is a scalar", head + "  - connect\n" + tail,
		`bad.yaml:5:5: a step is a mapping like {at: 0s, client: connect}, got "connect"`},
	{"expect entry is a scalar", head + step0 + "expect:\n  - reconnect_window\n",
		`bad.yaml:7:5: an expect entry is a mapping like {check: name, requirement: R1, ...}, got "reconnect_window"`},

	// Values of the wrong type or out of range.
	{"clients a fraction", head + step0 + tail + "clients: 1.5\n", `bad.yaml:8:10: expected an integer for clients, got "1.5"`},
	{"clients a word", head + step0 + tail + "clients: many\n", `bad.yaml:8:10: expected an integer for clients, got "many"`},
	{"at a bare number", head + "  - {at: 5, client: connect}\n" + tail, `bad.yaml:5:10: bad duration "5" for at: a duration is a number and a unit, e.g. 500ms, 2s, 1m30s`},
	{"duration zero", head + step0 + tail + "duration: 0s\n",
		`bad.yaml:8:11: duration must be positive (omit it to end 1s after the last step)`},
	{"check parameter of the wrong type", head + step0 + "expect:\n  - {check: reconnect_window, requirement: R4, within: [1s]}\n",
		`bad.yaml:7:56: expected a duration for within, got a list`},
	{"fault attribute of the wrong type", head + "  - {at: 0s, link: s1, fault: slice, size: big}\n" + tail,
		`bad.yaml:5:44: expected an integer for size, got "big"`},
	{"publish count 0", head + step0 + "  - {at: 0s, server: s1, publish: {topic: t, count: 0}}\n" + tail,
		`bad.yaml:6:53: publish count must be at least 1, got 0`},

	// Something required left out, or empty.
	{"name empty", head + step0 + tail + "name: ''\n", `bad.yaml:8:7: name is empty`},
	{"server without a name", strings.Replace(head, "{name: s2}", "{kind: session}", 1) + step0 + tail,
		`bad.yaml:2:23: server needs a name`},
	{"client.servers empty", strings.Replace(head, "{servers: [s1]}", "{servers: []}", 1) + step0 + tail,
		`bad.yaml:3:19: client.servers is empty: name at least one server`},
	{"covers empty", strings.Replace(head, "[R1, R4]", "[]", 1) + step0 + tail,
		"bad.yaml:1:9: covers is empty: name the requirements this scenario judges\n" +
			`bad.yaml:7:44: requirement R4 is not in covers []`},
	{"expect without requirement", head + step0 + "expect:\n  - {check: reconnect_window}\n", `bad.yaml:7:5: expect entry needs requirement`},
	{"expect without check", head + step0 + "expect:\n  - {requirement: R4}\n", `bad.yaml:7:5: expect entry needs check`},
	{"only empty", head + "  - {at: 0s, client: connect, only: []}\n" + tail,
		`bad.yaml:5:37: only is empty (omit it to mean every client)`},
	{"subscribe without topic", head + "  - {at: 0s, client: subscribe}\n" + tail,
		`bad.yaml:5:22: client subscribe needs its argument: {subscribe: ...}`},
	{"publish without topic", head + step0 + "  - {at: 0s, server: s1, publish: {count: 3}}\n" + tail,
		`bad.yaml:6:35: publish needs a topic`},

	// Names: unknown, twice, or unusable.
	{"unknown key in a server", strings.Replace(head, "{name: s2}", "{name: s2, retntion: 2s}", 1) + step0 + tail,
		`bad.yaml:2:34: unknown key "retntion" in server (did you mean "retention"?)`},
	{"unknown migration target", head + step0 + "  - {at: 0s, server: s1, migrate: {to: s9}}\n" + tail,
		`bad.yaml:6:40: unknown migration target "s9" (declared servers: s1, s2)`},
	{"server twice in client.servers", strings.Replace(head, "{servers: [s1]}", "{servers: [s1, s1]}", 1) + step0 + tail,
		`bad.yaml:3:24: server "s1" is listed twice in client.servers`},
	{"requirement twice in covers", strings.Replace(head, "[R1, R4]", "[R1, R4, R4]", 1) + step0 + tail,
		`bad.yaml:1:18: requirement R4 is listed twice`},
	{"label no filter can name", head + step0 + tail + "labels: ['a&&b']\n",
		`bad.yaml:8:10: bad label "a&&b": use [a-z0-9_-]+`},
	{"key in the wrong kind of step", head + "  - {at: 0s, client: connect, for: 1s}\n" + tail,
		`bad.yaml:5:31: key "for" belongs in link steps, not client steps`},
}

// step0 is a valid first step.
const step0 = "  - {at: 0s, client: connect}\n"

func TestBadFiles(t *testing.T) {
	for _, tc := range badFiles {
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

// TestAllProblemsAtOnce: a file with several problems reports every one of
// them, sorted by position.
func TestAllProblemsAtOnce(t *testing.T) {
	src := `covers: [R4]
servers: [{name: s1}]
client: {servers: [s1, s7]}
steps:
  - {at: 0s, client: connect, colour: red}
  - {at: soon, client: close}
expect:
  - {check: reconnect_window, requirement: R4}
`
	_, err := Parse("three.yaml", []byte(src), testRegistry())
	want := strings.Join([]string{
		`three.yaml:3:24: unknown server "s7" (declared servers: s1)`,
		`three.yaml:5:31: unknown key "colour" in client step (keys: at, client, only)`,
		`three.yaml:6:10: bad duration "soon" for at: a duration is a number and a unit, e.g. 500ms, 2s, 1m30s`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
	if es := err.(Errors); len(es) != 3 || es[1].Pos != (Pos{File: "three.yaml", Line: 5, Col: 31}) {
		t.Fatalf("errors = %#v", es)
	}
}

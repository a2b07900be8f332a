package scenario

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// announceAttrs stands in for a protocol pack's action attributes.
type announceAttrs struct {
	Servers []string `yaml:"servers"`
	Limit   int      `yaml:"limit"`
}

// Validate exercises the loader's call of an action's own checks.
func (a *announceAttrs) Validate() error {
	if len(a.Servers) == 0 {
		return errors.New("announce needs servers")
	}
	return nil
}

// kindRegistry is testRegistry with a second server kind, "natsy", that has
// actions of its own: lame_duck (a flag) and announce (with attributes).
// The session kind has none.
func kindRegistry() Registry {
	reg := testRegistry()
	reg.Kinds = []string{"session", "natsy"}
	reg.Action = func(kind, action string) (any, bool) {
		if kind != "natsy" {
			return nil, false
		}
		switch action {
		case "lame_duck":
			return nil, true
		case "announce":
			return &announceAttrs{}, true
		}
		return nil, false
	}
	reg.Actions = func(kind string) []string {
		if kind == "natsy" {
			return []string{"announce", "lame_duck"}
		}
		return nil
	}
	return reg
}

// khead is a valid scenario's first lines (1-4): s1 a session server, s2 a
// natsy one. Cases append steps from line 5 on, then ktail.
const khead = `covers: [R1, R4]
servers: [{name: s1}, {name: s2, kind: natsy}]
client: {servers: [s1]}
steps:
`

const ktail = `expect:
  - {check: reconnect_window, requirement: R4, within: 250ms}
`

func TestKindActionsGood(t *testing.T) {
	src := khead + `  - {at: 0s, server: s2, lame_duck: true}
  - {at: 1s, server: s2, announce: {servers: [s1, s2], limit: 3}}
  - at: 2s
    server: s2
    announce:
      servers: [s1]
  - {at: 3s, server: s2, kill: true}
  - {at: 4s, server: s1, close: true}
` + ktail
	sc, err := Parse("good.yaml", []byte(src), kindRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 5 {
		t.Fatalf("steps: %+v", sc.Steps)
	}
	if st := sc.Steps[0]; st.Server != "s2" || st.Action != "lame_duck" || st.ActionArgs != nil {
		t.Errorf("flag action: %+v", st)
	}
	if st := sc.Steps[1]; st.Server != "s2" || st.Action != "announce" ||
		!reflect.DeepEqual(st.ActionArgs, &announceAttrs{Servers: []string{"s1", "s2"}, Limit: 3}) {
		t.Errorf("action with attributes: %+v (args %#v)", st, st.ActionArgs)
	}
	if st := sc.Steps[2]; st.Action != "announce" || !reflect.DeepEqual(st.ActionArgs, &announceAttrs{Servers: []string{"s1"}}) {
		t.Errorf("block-mapping attributes: %+v (args %#v)", st, st.ActionArgs)
	}
	// Each step decodes into a struct of its own.
	if sc.Steps[1].ActionArgs == sc.Steps[2].ActionArgs {
		t.Error("two steps share one attributes struct")
	}
	// The common actions are unchanged, on a kind with actions of its own
	// and on one without.
	if st := sc.Steps[3]; !st.Kill || st.Action != "" || st.ActionArgs != nil {
		t.Errorf("kill on s2: %+v", st)
	}
	if st := sc.Steps[4]; !st.Close || st.Action != "" {
		t.Errorf("close on s1: %+v", st)
	}
}

func TestKindActionsBad(t *testing.T) {
	for _, tc := range []struct{ name, step, want string }{
		{"flag action false", "  - {at: 0s, server: s2, lame_duck: false}\n",
			`bad.yaml:5:37: lame_duck: false does nothing; remove it`},
		{"flag action not a boolean", "  - {at: 0s, server: s2, lame_duck: 1}\n",
			`bad.yaml:5:37: expected true or false for lame_duck, got "1"`},
		{"flag action with a mapping", "  - {at: 0s, server: s2, lame_duck: {now: true}}\n",
			`bad.yaml:5:37: expected true or false for lame_duck, got a mapping`},
		{"attributes that fail Validate", "  - {at: 0s, server: s2, announce: {servers: []}}\n",
			`bad.yaml:5:36: announce: announce needs servers`},
		{"attributes that fail Validate, block mapping", "  - at: 0s\n    server: s2\n    announce:\n      limit: 2\n",
			`bad.yaml:8:7: announce: announce needs servers`},
		{"unknown attribute", "  - {at: 0s, server: s2, announce: {servrs: [s1]}}\n",
			`bad.yaml:5:37: unknown key "servrs" in announce (did you mean "servers"?)`},
		{"attribute of the wrong type", "  - {at: 0s, server: s2, announce: {servers: [s1], limit: many}}\n",
			`bad.yaml:5:59: expected an integer for limit, got "many"`},
		{"attributes not a mapping", "  - {at: 0s, server: s2, announce: true}\n",
			`bad.yaml:5:36: announce takes a mapping of its attributes, got "true"`},
		{"attributes missing", "  - {at: 0s, server: s2, announce: }\n",
			`bad.yaml:5:36: announce takes a mapping of its attributes, got nothing`},
		{"unknown action names the kind", "  - {at: 0s, server: s2, lame_dcuk: true}\n",
			`bad.yaml:5:14: server step needs publish, close, kill, restart, migrate, announce or lame_duck` + "\n" +
				`bad.yaml:5:26: unknown key "lame_dcuk" in server step (server kind "natsy") (did you mean "lame_duck"?)`},
		{"two actions of the kind", "  - {at: 0s, server: s2, lame_duck: true, announce: {servers: [s1]}}\n",
			`bad.yaml:5:43: server step has both lame_duck and announce: use one step each`},
		{"two actions, attributes first", "  - {at: 0s, server: s2, announce: {servers: [s1]}, lame_duck: true}\n",
			`bad.yaml:5:53: server step has both announce and lame_duck: use one step each`},
		{"a common action and one of the kind", "  - {at: 0s, server: s2, kill: true, lame_duck: true}\n",
			`bad.yaml:5:38: server step has both kill and lame_duck: use one step each`},
		{"an action the server's kind lacks", "  - {at: 0s, server: s1, lame_duck: true}\n",
			`bad.yaml:5:14: server step needs publish, close, kill, restart or migrate` + "\n" +
				`bad.yaml:5:26: unknown key "lame_duck" in server step (server kind "session") (keys: at, close, kill, migrate, publish, restart, server)`},
		{"a kind's action in a client step", "  - {at: 0s, client: connect, lame_duck: true}\n",
			`bad.yaml:5:31: unknown key "lame_duck" in client step (keys: at, client, only)`},
		{"a kind's action in a link step", "  - {at: 0s, link: s2, fault: cut, lame_duck: true}\n",
			`bad.yaml:5:36: unknown key "lame_duck" in fault cut (keys: at, direction, fault, for, link)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := khead + tc.step + ktail
			sc, err := Parse("bad.yaml", []byte(src), kindRegistry())
			if sc != nil {
				t.Errorf("a bad file gave a scenario")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v (%T) is not Errors", err, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("source:\n%s\ngot:\n%s\nwant:\n%s", src, got, tc.want)
			}
		})
	}
}

// A step on a server that is not declared has no kind to look its action
// up in: the undeclared server is the one problem, as it is for a common
// action (bad_test.go "unknown server in a step"), not also an action that
// "server kind \"\"" lacks and a step without an action.
func TestKindActionOnAnUndeclaredServerIsOneProblem(t *testing.T) {
	src := khead + "  - {at: 0s, server: s9, lame_duck: true}\n" + ktail
	_, err := Parse("bad.yaml", []byte(src), kindRegistry())
	want := `bad.yaml:5:22: unknown server "s9" (declared servers: s1, s2)`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	if err != nil && strings.Contains(err.Error(), `server kind ""`) {
		t.Errorf("the error names an empty server kind:\n%v", err)
	}
}

// A registry without Action and Actions (every caller before protocol
// packs) still loads: no kind has actions of its own.
func TestKindActionsWithoutARegistryOfThem(t *testing.T) {
	reg := kindRegistry()
	reg.Action, reg.Actions = nil, nil
	_, err := Parse("bad.yaml", []byte(khead+"  - {at: 0s, server: s2, lame_duck: true}\n"+ktail), reg)
	want := `bad.yaml:5:14: server step needs publish, close, kill, restart or migrate` + "\n" +
		`bad.yaml:5:26: unknown key "lame_duck" in server step (server kind "natsy") (keys: at, close, kill, migrate, publish, restart, server)`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

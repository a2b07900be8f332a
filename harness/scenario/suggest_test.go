package scenario

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNearest(t *testing.T) {
	cands := []string{"reconnect_window", "reconnect_timeout", "reconnect_before_failover", "session_preserved",
		"migration_failed_intact", "migration_no_reconnect", "no_reconnect", "cut"}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"reconect_window", []string{"reconnect_window"}}, // a typo: edit distance 1
		{"reconnect_windw", []string{"reconnect_window"}},
		{"reconnect", []string{"reconnect_before_failover", "reconnect_timeout", "reconnect_window"}}, // a first word
		{"session", []string{"session_preserved"}},
		{"migration_window", []string{"migration_failed_intact", "migration_no_reconnect"}},
		{"cu", []string{"cut"}},
		{"c", nil}, // a distance as long as the name is no typo
		{"recon", []string{"reconnect_before_failover", "reconnect_timeout", "reconnect_window"}},
		{"rec", nil},     // a prefix shorter than 4 runes
		{"window", nil},  // a suffix is no prefix
		{"zzz_top", nil}, // nothing near
	} {
		if got := Nearest(tc.name, cands); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Nearest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	// More names sharing the prefix than a "one of" can show: none offered
	// (the caller lists them all).
	if got := Nearest("backoff", []string{"backoff_alpha", "backoff_bravo", "backoff_charlie", "backoff_delta", "backoff_echo"}); got != nil {
		t.Errorf("nearest among five sharing the prefix = %q, want none", got)
	}
}

func TestListedWraps(t *testing.T) {
	if got, want := listed("kinds", []string{"session", "instance", "session"}), " (kinds: instance, session)"; got != want {
		t.Errorf("short list: got %q, want %q", got, want)
	}
	var names []string
	for _, w := range strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa") {
		names = append(names, w+"_check")
	}
	want := " (checks:\n" +
		"    alpha_check, bravo_check, charlie_check, delta_check, echo_check,\n" +
		"    foxtrot_check, golf_check, hotel_check, india_check, juliett_check,\n" +
		"    kilo_check, lima_check, mike_check, november_check, oscar_check,\n" +
		"    papa_check)"
	if got := listed("checks", names); got != want {
		t.Errorf("long list:\ngot:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range strings.Split(want, "\n")[1:] {
		if n := len(line) - len(wrapIndent); n > wrapWidth {
			t.Errorf("line of %d runes after the indent: %q", n, line)
		}
	}
	if got := listed("checks", nil); got != "" {
		t.Errorf("no names: got %q", got)
	}
}

// The mistakes the loader explains: a name it offers a fix for, or lists
// the valid ones instead of; a tab in indentation.
var explained = []struct{ name, src, want string }{
	{"unknown check, nothing near: the checks listed", head + step0 + "expect:\n  - {check: zzz_top, requirement: R4}\n",
		`bad.yaml:7:13: unknown check "zzz_top" (checks: exactly_once_in_order, reconnect_window, session_preserved)`},
	{"unknown check, its first word", head + step0 + "expect:\n  - {check: session, requirement: R4}\n",
		`bad.yaml:7:13: unknown check "session" (did you mean "session_preserved"?)`},
	{"unknown fault, nothing near: the verbs and heal listed", head + "  - {at: 0s, link: s1, fault: melt}\n" + tail,
		`bad.yaml:5:31: unknown fault "melt" (faults: cut, heal, slice, slow)`},
	{"unknown fault near heal", head + "  - {at: 0s, link: s1, fault: hea}\n" + tail,
		`bad.yaml:5:31: unknown fault "hea" (did you mean "heal"?)`},
	{"unknown server kind near one", strings.Replace(head, "{name: s2}", "{name: s2, kind: sesion}", 1) + step0 + tail,
		`bad.yaml:2:40: unknown server kind "sesion" (did you mean "session"?)`},
	{"unknown client op, nothing near: the ops listed", head + "  - {at: 0s, client: jump}\n" + tail,
		`bad.yaml:5:22: unknown client op "jump" (ops: cancel, close, connect, edge, request, send, subscribe)`},
	{"a misspelt kind of step", head + "  - {at: 0s, clinet: connect}\n" + tail,
		`bad.yaml:5:14: unknown key "clinet" in step (did you mean "client"?)`},
	{"no kind of step, nothing near", head + "  - {at: 0s, colour: red}\n" + tail,
		`bad.yaml:5:5: step needs one of client, server or link`},
	{"unknown key, nothing near: the keys listed", head + step0 + "expect:\n  - {check: reconnect_window, requirement: R4, colour: red}\n",
		`bad.yaml:7:48: unknown key "colour" in expect (keys: check, requirement, within)`},
	{"tab after spaces", head + "  \t- {at: 0s, client: connect}\n" + tail,
		`bad.yaml:5:3: tab in indentation: YAML indents with spaces`},
	{"tab in a block mapping", "covers: [R4]\nservers: [{name: s1}]\nclient:\n  servers: [s1]\n\treconnect: {timeout: 1s}\nsteps:\n" + step0 + tail,
		`bad.yaml:5:1: tab in indentation: YAML indents with spaces`},
	{"tab in a nested mapping", "covers: [R4]\nservers: [{name: s1}]\nclient:\n  servers: [s1]\n  reconnect:\n  \t timeout: 1s\nsteps:\n" + step0 + tail,
		`bad.yaml:6:3: tab in indentation: YAML indents with spaces`},
	{"a syntax error with a tab elsewhere stays a syntax error", "covers: [R4,\n\tR1]\n" + strings.TrimPrefix(head, "covers: [R1, R4]\n") + "  - {at: 0s, client: connect\n" + tail,
		`bad.yaml:6:1: YAML syntax error: did not find expected ',' or '}'`},
}

func TestExplainedMistakes(t *testing.T) {
	for _, tc := range explained {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.src), testRegistry())
			var es Errors
			if !errors.As(err, &es) || err.Error() != tc.want {
				t.Errorf("source:\n%s\ngot:\n%v\nwant:\n%s", tc.src, err, tc.want)
			}
		})
	}
}

// A tab YAML allows (in a flow list, before a comment) is no error.
func TestTabsOutsideIndentationLoad(t *testing.T) {
	src := "covers: [R1,\n\tR4]\nservers: [{name: s1}]\t# one\nclient: {servers: [s1]}\nsteps:\n" + step0 + tail
	if _, err := Parse("ok.yaml", []byte(src), testRegistry()); err != nil {
		t.Fatal(err)
	}
}

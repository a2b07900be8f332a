package check

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/requirement"
)

// TestRegistered holds every registered checker to the kernel's rules: it
// judges named requirements, New gives a fresh instance, every parameter has
// a yaml tag, and a missing scenario or an empty history is never OK.
func TestRegistered(t *testing.T) {
	names := Names()
	if len(names) < 32 {
		t.Fatalf("only %d checkers registered: %v", len(names), names)
	}
	for _, n := range names {
		spec, _ := Lookup(n)
		if len(spec.Judges) == 0 {
			t.Errorf("%s judges no requirement", n)
		}
		for _, id := range spec.Judges {
			if requirement.Title(id) == "" {
				t.Errorf("%s judges %q, which is no requirement", n, id)
			}
		}
		a, _ := New(n)
		b, _ := New(n)
		if reflect.TypeOf(a).Elem().Size() > 0 && reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() {
			t.Errorf("%s: New returns a shared instance", n)
		}
		// The loader decodes expect keys through yaml tags: every exported
		// field is a parameter and must carry one.
		typ := reflect.TypeOf(a).Elem()
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if f.IsExported() && f.Tag.Get("yaml") == "" {
				t.Errorf("%s: field %s has no yaml tag", n, f.Name)
			}
		}
		// Zero configuration is valid unless a parameter is required.
		if v, ok := a.(validator); ok {
			err := v.Validate()
			if (err != nil) != required(n) {
				t.Errorf("%s: Validate() on defaults = %v", n, err)
			}
		}
		// No scenario: never OK, never a panic.
		if r := a.Check(Input{History: recoveryH()}); r.Verdict == OK {
			t.Errorf("%s without a scenario: %s", n, r.Verdict)
		}
		// An empty history has nothing to judge: UNKNOWN, never OK (a
		// routing checker on a session scenario says it is the wrong kind).
		if !required(n) {
			sc := scen()
			if slices.Contains(spec.Judges, "T1") || strings.HasPrefix(spec.Judges[0], "T") {
				sc = rscen(2)
			}
			// A checker whose scenario lacks what it judges (failover off
			// for failover_sequence) may say so as FAILED.
			r := a.Check(Input{Scenario: sc})
			if r.Verdict != Unknown && (r.Verdict != Failed || strings.HasPrefix(r.Detail, "nothing to judge")) {
				t.Errorf("%s on an empty history: %s %s", n, r.Verdict, r.Detail)
			}
		}
	}
}

func required(n string) bool {
	return n == "exactly_once_in_order" || n == "at_least_once" || n == "deliberate_close" || n == "shuffle_uniform"
}

func TestExcerpt(t *testing.T) {
	h := recoveryH()
	r := (&ReconnectWindow{Within: Ptr(time.Millisecond)}).Check(Input{History: h, Scenario: scen()})
	x := Excerpt(h, r, 10*time.Millisecond)
	if !strings.Contains(x, "session.resume") || strings.Contains(x, "fault.on") {
		t.Errorf("excerpt around %s:\n%s", dur(r.At), x)
	}
}

// Records of one instant by different observers may be stamped a little out
// of order: the checkers allow stampSlack for it.
func TestStampSlack(t *testing.T) {
	// The server records session.resume just after the client's CONNECTED_ACTIVE.
	s := &story{}
	s.connect(5, "A")
	rec := s.lose(400, "cut", "A")
	s.attempts(rec, 100)
	s.add(ev(703, "accept", "server=s1", "conn=s1#3"), state(704, rR, cA, "A"), ev(705, "session.resume", "server=s1", "conn=s1#3", "session=A"))
	runCases(t, []tcase{
		{name: "resume recorded after the client's claim", cfg: &SessionPreserved{}, h: s.hist(), verdict: OK},
		{name: "client's close stamped before the server's session.lost", cfg: &NoSilentLoss{}, h: func() history.History {
			s := pubStory(3, 1, 2, 3)
			rec := s.lose(400, "cut", "A")
			s.attempts(rec, 100)
			return s.add(ev(600, "accept", "server=s1", "conn=s1#3"), state(601, rR, cF, "A", "reason=lost_messages"),
				ev(602, "session.lost", "server=s1", "conn=s1#3", "session=A")).hist()
		}(), verdict: OK},
		{name: "client's close stamped before the server's close", cfg: &DeliberateClose{By: "server"},
			h: (&story{}).connect(5, "A").add(state(499, cA, cBS, "A", "reason=closed_by_server"),
				ev(500, "session.close", "server=s1", "session=A", "reason=closed_by_server")).hist(), verdict: OK},
	})
}

package check

import "testing"

func TestVerdictOrder(t *testing.T) {
	// Worst first: what "the worst of" picks for a requirement.
	order := []string{Failed, Unknown, NonStrict, Unimplemented, Informational, OK, Unsupported, ""}
	for i := 0; i+1 < len(order); i++ {
		if Severity(order[i]) <= Severity(order[i+1]) {
			t.Errorf("%q must rank above %q", order[i], order[i+1])
		}
		if Worse(order[i+1], order[i]) != order[i] || Worse(order[i], order[i+1]) != order[i] {
			t.Errorf("Worse(%q, %q)", order[i], order[i+1])
		}
	}
	for _, v := range Verdicts() {
		if want := v == Failed || v == Unknown; FailsRun(v) != want {
			t.Errorf("FailsRun(%s) = %v", v, FailsRun(v))
		}
	}
}

// Merge never hides a finding: the worse verdict wins with its moment, and
// both details and measurements are kept.
func TestMerge(t *testing.T) {
	ok := Result{Verdict: OK, Detail: "all good", At: 5, Measurements: []Measurement{{Name: "a"}}}
	bad := Result{Verdict: Unknown, Detail: "client 3 never connected", At: 9, Measurements: []Measurement{{Name: "b"}}}
	m := Merge(ok, bad)
	if m.Verdict != Unknown || m.At != 9 || m.Detail != "all good; client 3 never connected" || len(m.Measurements) != 2 {
		t.Errorf("merged %+v", m)
	}
	f := Merge(Result{Verdict: Failed, Detail: "broke", At: 2}, bad)
	if f.Verdict != Failed || f.At != 2 {
		t.Errorf("FAILED must stay FAILED: %+v", f)
	}
}

// Overrule makes even a FAILED UNKNOWN, and keeps what the check said.
func TestOverrule(t *testing.T) {
	slip := Result{Verdict: Unknown, Detail: "the harness could not hold the timeline", At: 11, Measurements: []Measurement{{Name: "s"}}}
	o := Overrule(Result{Verdict: Failed, Detail: "window 300ms > 250ms", At: 3, Measurements: []Measurement{{Name: "w"}}}, slip)
	if o.Verdict != Unknown || o.At != 11 || len(o.Measurements) != 2 ||
		o.Detail != "the harness could not hold the timeline (judged anyway: FAILED: window 300ms > 250ms)" {
		t.Errorf("overruled %+v", o)
	}
}

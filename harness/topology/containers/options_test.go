package containers

import (
	"testing"
	"time"
)

// New's options apply in order over the defaults; Options{...} sets its
// non-zero fields (the callers' New(Options{}) is New()); the reach falls
// back on FAULTLINE_CONTAINERS_REACH, then auto.
func TestNewAppliesOptionsOverDefaults(t *testing.T) {
	t.Setenv(ReachEnv, "")
	logged := ""
	logf := func(format string, a ...any) { logged = format }
	for _, k := range []struct {
		name string
		opts []Option
		want Options
	}{
		{"defaults", nil, Options{ServeImage: DefaultServeImage, Links: DefaultLinks, Timeout: DefaultTimeout, Reach: ReachAuto}},
		{"zero Options", []Option{Options{}}, Options{ServeImage: DefaultServeImage, Links: DefaultLinks, Timeout: DefaultTimeout, Reach: ReachAuto}},
		{"each With", []Option{WithServeImage("img:1"), WithLinks(3), WithTimeout(5 * time.Second), WithReach(ReachMapped), WithLogf(logf)},
			Options{ServeImage: "img:1", Links: 3, Timeout: 5 * time.Second, Reach: ReachMapped, Logf: logf}},
		{"Options fields", []Option{Options{ServeImage: "img:2", Links: 4, Timeout: time.Second, Reach: ReachDirect}},
			Options{ServeImage: "img:2", Links: 4, Timeout: time.Second, Reach: ReachDirect}},
		{"later wins", []Option{WithLinks(3), Options{Links: 5}, WithReach(ReachDirect), WithReach(ReachMapped)},
			Options{ServeImage: DefaultServeImage, Links: 5, Timeout: DefaultTimeout, Reach: ReachMapped}},
		{"a zero field keeps the earlier", []Option{WithLinks(7), Options{ServeImage: "img:3"}},
			Options{ServeImage: "img:3", Links: 7, Timeout: DefaultTimeout, Reach: ReachAuto}},
		{"out of range is the default", []Option{WithLinks(-1), WithTimeout(-time.Second)},
			Options{ServeImage: DefaultServeImage, Links: DefaultLinks, Timeout: DefaultTimeout, Reach: ReachAuto}},
	} {
		got := New(k.opts...).opts
		if got.ServeImage != k.want.ServeImage || got.Links != k.want.Links || got.Timeout != k.want.Timeout || got.Reach != k.want.Reach {
			t.Errorf("%s: got %+v, want %+v", k.name, got, k.want)
		}
		if got.Logf == nil {
			t.Errorf("%s: no Logf", k.name)
			continue
		}
		logged = ""
		got.Logf("probe")
		if want := k.want.Logf != nil; (logged == "probe") != want {
			t.Errorf("%s: the given Logf called: %v, want %v", k.name, logged == "probe", want)
		}
	}
	New() // testcontainers' logger back to quiet

	t.Setenv(ReachEnv, ReachMapped)
	if r := New().opts.Reach; r != ReachMapped {
		t.Errorf("%s=%s: reach %q", ReachEnv, ReachMapped, r)
	}
	if r := New(WithReach(ReachDirect)).opts.Reach; r != ReachDirect {
		t.Errorf("an option under %s=%s: reach %q, want the option's", ReachEnv, ReachMapped, r)
	}
}

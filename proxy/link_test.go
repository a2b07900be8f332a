package proxy

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline/faultline/harness/history"
)

func TestEventsRecorded(t *testing.T) {
	l, _, log := setup(t, newTestEmbedded)
	id := apply(t, l, "slow", &SlowAttrs{Latency: 80 * time.Millisecond, Jitter: 10 * time.Millisecond}, Upstream)
	heal(t, l, id)

	on, off := faultEvents(log)
	if len(on) != 1 || len(off) != 1 {
		t.Fatalf("events:\n%v", log.Events())
	}
	wantOn := map[string]string{"direction": "upstream", "id": idString(id), "latency": "80ms", "jitter": "10ms"}
	// apply_ms is how long applying took: present, a number, not compared.
	got := maps.Clone(on[0].Attrs)
	if _, err := strconv.ParseFloat(got["apply_ms"], 64); err != nil {
		t.Errorf("fault.on apply_ms %q: %v", got["apply_ms"], err)
	}
	delete(got, "apply_ms")
	if e := on[0]; e.Source != history.SrcLink || e.Link != "s1" || e.Verb != "slow" || !maps.Equal(got, wantOn) {
		t.Fatalf("fault.on: %+v, want attrs %v", e, wantOn)
	}
	if e := off[0]; e.Source != history.SrcLink || e.Link != "s1" || e.Verb != "slow" ||
		!maps.Equal(e.Attrs, map[string]string{"id": idString(id)}) || e.T < on[0].T {
		t.Fatalf("fault.off: %+v", e)
	}
}

func TestHealAllAndOverlaps(t *testing.T) {
	l, _, log := setup(t, newTestEmbedded)
	addr := l.Addr()
	d1 := apply(t, l, "down", nil, "")
	apply(t, l, "down", nil, "")
	cut := apply(t, l, "cut", nil, "") // must not bring a down link up
	apply(t, l, "slow", &SlowAttrs{Latency: time.Second}, "")
	refused := func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}
	if !refused() {
		t.Fatal("link up while two downs are in force")
	}
	heal(t, l, d1)
	if !refused() {
		t.Fatal("link up while one down is still in force")
	}
	if got := l.Active(); len(got) != 3 || got[1] != cut {
		t.Fatalf("active: %v", got)
	}

	if err := l.HealAll(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if got := l.Active(); len(got) != 0 {
		t.Fatalf("active after HealAll: %v", got)
	}
	if rtt := mustEcho(t, dial(t, addr)); rtt > 500*time.Millisecond {
		t.Fatalf("slow still in force: rtt %v", rtt)
	}
	on, off := faultEvents(log)
	if len(on) != 4 || len(off) != 4 {
		t.Fatalf("events:\n%v", log.Events())
	}
}

func TestConcurrentFaults(t *testing.T) {
	l, _, log := setup(t, newTestEmbedded)
	c := dial(t, l.Addr())
	dirs := []Direction{Both, Upstream, Downstream}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 4 {
				id, err := l.Apply(ctx(t), "slow", &SlowAttrs{Latency: time.Millisecond}, dirs[(g+i)%3])
				if err == nil {
					err = l.Heal(ctx(t), id)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	on, off := faultEvents(log)
	ids := map[string]bool{}
	for _, e := range on {
		ids[e.Attr("id")] = true
	}
	if len(on) != 32 || len(off) != 32 || len(ids) != 32 || len(l.Active()) != 0 {
		t.Fatalf("on %d, off %d, distinct ids %d, active %v", len(on), len(off), len(ids), l.Active())
	}
	mustEcho(t, c)
}

func TestBadInput(t *testing.T) {
	l, _, log := setup(t, newTestEmbedded)
	cases := []struct {
		verb  string
		attrs any
		dir   Direction
		want  string
	}{
		{"melt", nil, "", `unknown fault verb "melt" (known: blackhole, cut, down, limit, reset, slice, slow, throttle)`},
		{"slow", nil, "", "slow: latency must be at least 1ms"},
		{"slow", &SlowAttrs{Latency: time.Second, Jitter: -1}, "", "jitter must not be negative"},
		{"throttle", &ThrottleAttrs{}, "", "rate (KB/s) must be greater than 0"},
		{"limit", nil, "", "bytes must be greater than 0"},
		{"slice", &SliceAttrs{AverageSize: 4, SizeVariation: 4}, "", "size_variation must be at least 0 and less than average_size"},
		{"slice", nil, "", "average_size must be greater than 0"},
		{"reset", &ResetAttrs{Timeout: -time.Second}, "", "timeout must not be negative"},
		{"throttle", &SlowAttrs{Latency: time.Second}, "", "throttle: attributes of type *proxy.SlowAttrs, want *proxy.ThrottleAttrs"},
		{"slow", (*SlowAttrs)(nil), "", "attributes of type *proxy.SlowAttrs"},
		{"blackhole", nil, "sideways", `unknown direction "sideways"`},
	}
	for _, c := range cases {
		_, err := l.Apply(ctx(t), c.verb, c.attrs, c.dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v %q: got %v, want %q", c.verb, c.attrs, c.dir, err, c.want)
		}
	}
	if err := l.Heal(ctx(t), 99); !errors.Is(err, ErrUnknownFault) {
		t.Errorf("heal unknown: %v", err)
	}
	if len(log.Events()) != 0 || len(l.Active()) != 0 {
		t.Fatalf("rejected faults left traces: %v %v", log.Events(), l.Active())
	}
	// A struct value is as good as a pointer.
	id := apply(t, l, "slow", SlowAttrs{Latency: time.Millisecond}, "")
	heal(t, l, id)
}

func TestLinkNames(t *testing.T) {
	tp := newTestEmbedded(t, history.Nop{})
	up := newEcho(t)
	for _, bad := range []string{"", "a/b", "s 1", "s?1"} {
		if _, err := tp.Link(ctx(t), bad, up.addr()); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if _, err := tp.Link(ctx(t), "s1", "nowhere"); err == nil || !strings.Contains(err.Error(), `upstream "nowhere"`) {
		t.Errorf("bad upstream: %v", err)
	}
	if _, err := tp.Link(ctx(t), "s1", up.addr()); err != nil {
		t.Fatal(err)
	}
	if _, err := tp.Link(ctx(t), "s1", up.addr()); err == nil {
		t.Error("duplicate link name accepted")
	}
}

// Close heals, removes links and leaves no goroutine behind, also with faults
// in force and connections open through the links.
func TestCloseLeavesNothing(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			// A subtest, so that its cleanups (echo, API server) run before the check.
			t.Run("run", func(t *testing.T) {
				up := newEcho(t)
				log := newLog()
				tp := b.mk(t, log)
				var links []*Link
				for i := range 3 {
					l, err := tp.Link(ctx(t), fmt.Sprintf("s%d", i), up.addr())
					if err != nil {
						t.Fatal(err)
					}
					links = append(links, l)
					mustEcho(t, dial(t, l.Addr()))
				}
				apply(t, links[0], "blackhole", nil, "")
				apply(t, links[1], "slow", &SlowAttrs{Latency: 5 * time.Millisecond}, Downstream)
				apply(t, links[2], "down", nil, "")
				if err := tp.Close(); err != nil {
					t.Fatal(err)
				}
				on, off := faultEvents(log)
				if len(on) != 3 || len(off) != 3 {
					t.Fatalf("close did not heal:\n%v", log.Events())
				}
				for _, l := range links {
					if c, err := net.DialTimeout("tcp", l.Addr(), time.Second); err == nil {
						c.Close()
						t.Errorf("link %s still listening after Close", l.Name())
					}
					if _, err := l.Apply(ctx(t), "down", nil, ""); !errors.Is(err, ErrClosed) {
						t.Errorf("apply after close: %v", err)
					}
				}
				if _, err := tp.Link(ctx(t), "late", up.addr()); !errors.Is(err, ErrClosed) {
					t.Errorf("link after close: %v", err)
				}
			})
			goleak.VerifyNone(t, before)
		})
	}
}

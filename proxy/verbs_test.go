package proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Each verb's observable effect through a link, on both backends.
func TestVerbs(t *testing.T) {
	cases := []struct {
		verb string
		run  func(*testing.T, backend)
	}{
		{"cut", testCut}, {"down", testDown}, {"blackhole", testBlackhole}, {"reset", testReset},
		{"slow", testSlow}, {"throttle", testThrottle}, {"slice", testSlice}, {"limit", testLimit},
	}
	for _, b := range backends {
		for _, c := range cases {
			t.Run(b.name+"/"+c.verb, func(t *testing.T) { c.run(t, b.mk) })
		}
	}
}

// assertClosedErr: the link ended the exchange (EOF or reset), not silence.
func assertClosedErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("exchange succeeded through a faulted link")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want the connection dropped, got a timeout: %v", err)
	}
}

func testCut(t *testing.T, mk backend) {
	l, up, log := setup(t, mk)
	addr := l.Addr()
	live := dial(t, addr)
	mustEcho(t, live)

	id := apply(t, l, "cut", nil, Upstream) // direction ignored
	if d := readClosed(t, live, time.Second); d > 200*time.Millisecond {
		t.Errorf("live connection dropped after %v", d)
	}
	if l.Addr() != addr {
		t.Fatalf("address changed: %s -> %s", addr, l.Addr())
	}
	before := up.accepts.Load()
	fresh := dial(t, addr) // accepted by the link...
	up.waitAccepts(t, before+1)
	_, err := roundTrip(fresh, "x", time.Second) // ...and reset once bytes flow
	assertClosedErr(t, err)

	heal(t, l, id)
	mustEcho(t, dial(t, addr))
	on, off := faultEvents(log)
	if len(on) != 1 || on[0].Verb != "cut" || on[0].Attr("direction") != "both" || len(off) != 1 {
		t.Fatalf("events:\n%v", log.Events())
	}
}

func testDown(t *testing.T, mk backend) {
	l, up, _ := setup(t, mk)
	addr := l.Addr()
	live := dial(t, addr)
	mustEcho(t, live)

	id := apply(t, l, "down", nil, "")
	readClosed(t, live, time.Second)
	before := up.accepts.Load()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("dial succeeded on a down link")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("want connection refused, got %v", err)
	}
	if n := up.accepts.Load(); n != before {
		t.Fatalf("upstream saw %d attempts under down", n-before)
	}

	heal(t, l, id)
	if l.Addr() != addr {
		t.Fatalf("address changed: %s -> %s", addr, l.Addr())
	}
	mustEcho(t, dial(t, addr))
}

func testBlackhole(t *testing.T, mk backend) {
	l, _, _ := setup(t, mk)
	live := dial(t, l.Addr())
	mustEcho(t, live)

	id := apply(t, l, "blackhole", nil, "")
	fresh := dial(t, l.Addr())
	for _, c := range []net.Conn{live, fresh} {
		if _, err := c.Write([]byte("lost")); err != nil {
			t.Fatalf("write into blackhole: %v", err)
		}
	}
	readNothing(t, live, 200*time.Millisecond)
	readNothing(t, fresh, 50*time.Millisecond)

	heal(t, l, id) // closes held connections rather than resuming them
	readClosed(t, live, time.Second)
	readClosed(t, fresh, time.Second)
	mustEcho(t, dial(t, l.Addr()))
}

func testReset(t *testing.T, mk backend) {
	l, _, _ := setup(t, mk)
	live := dial(t, l.Addr())
	mustEcho(t, live)

	id := apply(t, l, "reset", nil, "")
	_, err := roundTrip(live, "x", time.Second)
	assertClosedErr(t, err)
	_, err = roundTrip(dial(t, l.Addr()), "x", time.Second)
	assertClosedErr(t, err)
	heal(t, l, id)

	// timeout delays the reset after the first bytes.
	id = apply(t, l, "reset", &ResetAttrs{Timeout: 150 * time.Millisecond}, Upstream)
	c := dial(t, l.Addr())
	start := time.Now()
	_, err = roundTrip(c, "x", 2*time.Second)
	assertClosedErr(t, err)
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Fatalf("reset after %v, want >= 150ms", d)
	}
	heal(t, l, id)
	mustEcho(t, dial(t, l.Addr()))
}

func testSlow(t *testing.T, mk backend) {
	l, _, _ := setup(t, mk)
	c := dial(t, l.Addr())
	mustEcho(t, c)

	const lat = 100 * time.Millisecond
	id := apply(t, l, "slow", &SlowAttrs{Latency: lat}, "")
	if rtt := mustEcho(t, c); rtt < 2*lat {
		t.Fatalf("both directions: rtt %v, want >= %v", rtt, 2*lat)
	}
	heal(t, l, id)

	id = apply(t, l, "slow", &SlowAttrs{Latency: lat}, Upstream)
	if rtt := mustEcho(t, c); rtt < lat || rtt >= 2*lat-5*time.Millisecond {
		t.Fatalf("upstream only: rtt %v, want in [%v, %v)", rtt, lat, 2*lat)
	}
	heal(t, l, id)
	if rtt := mustEcho(t, c); rtt >= lat {
		t.Fatalf("healed: rtt %v", rtt)
	}
}

func testThrottle(t *testing.T, mk backend) {
	l, _, _ := setup(t, mk)
	c := dial(t, l.Addr())
	msg := strings.Repeat("z", 4000)

	id := apply(t, l, "throttle", &ThrottleAttrs{Rate: 20}, Downstream) // 4000 B at 20 KB/s: ~200ms
	rtt, err := roundTrip(c, msg, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rtt < 150*time.Millisecond {
		t.Fatalf("4000 bytes at 20 KB/s took %v", rtt)
	}
	heal(t, l, id)
	if rtt, err = roundTrip(c, msg, time.Second); err != nil || rtt >= 100*time.Millisecond {
		t.Fatalf("healed: %v, %v", rtt, err)
	}
}

func testSlice(t *testing.T, mk backend) {
	l, _, _ := setup(t, mk)
	c := dial(t, l.Addr())
	id := apply(t, l, "slice", &SliceAttrs{AverageSize: 1, Delay: 10 * time.Millisecond}, Downstream)

	start := time.Now()
	_ = c.SetDeadline(start.Add(2 * time.Second))
	if _, err := c.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	got, reads := 0, 0
	buf := make([]byte, 64)
	for got < 10 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		got, reads = got+n, reads+1
	}
	if d := time.Since(start); reads < 3 || d < 60*time.Millisecond {
		t.Fatalf("10 bytes sliced by 1 with 10ms delay arrived in %d reads over %v", reads, d)
	}
	heal(t, l, id)
	mustEcho(t, c)
}

func testLimit(t *testing.T, mk backend) {
	l, _, _ := setup(t, mk)
	id := apply(t, l, "limit", &LimitAttrs{Bytes: 3}, Downstream)
	c := dial(t, l.Addr())
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if string(got) != "hel" || err != nil {
		t.Fatalf("got %q, %v; want %q then EOF", got, err, "hel")
	}
	heal(t, l, id)
	mustEcho(t, dial(t, l.Addr()))
}

package proxy

import (
	"net"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// stampedUpstream accepts and holds connections, recording a server accept
// into log for each, as a fake server does.
func stampedUpstream(t *testing.T, log *history.Log) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			log.Record(history.Event{Source: history.SrcServer, Kind: history.KindAccept, Server: "up", Conn: c.RemoteAddr().String()})
			held = append(held, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func TestLinkAcceptsRecorded(t *testing.T) {
	log := newLog()
	tp := newTestEmbedded(t, log)
	l, err := tp.Link(ctx(t), "s1", stampedUpstream(t, log))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, l, "reset", nil, "") // an attempt the link fails at once is still recorded
	want := map[string]bool{}
	for range 3 {
		c := dial(t, l.Addr())
		want[c.LocalAddr().String()] = true
		_, _ = c.Write([]byte("x"))
		readClosed(t, c, 2*time.Second)
	}
	var accepts, servers history.History
	eventually(t, 2*time.Second, func() bool {
		h := log.Events()
		accepts, servers = h.Kind(history.KindLinkAccept), h.Kind(history.KindAccept)
		return len(accepts) >= 3 && len(servers) >= 3
	}, "3 link and 3 server accepts:\n%v", log.Events())
	if len(accepts) != 3 {
		t.Fatalf("link accepts: want 3, got %v", accepts)
	}
	for i, e := range accepts {
		if e.Source != history.SrcLink || e.Link != "s1" || !want[e.Conn] {
			t.Errorf("link accept %d: %+v; want link s1, conn one of %v", i, e, want)
		}
		// Stamped before the dial, so before the server's accept of the same
		// connection: the order the checkers rely on.
		if e.T >= servers[i].T {
			t.Errorf("link accept %d at %v is not before server accept at %v", i, e.T, servers[i].T)
		}
	}
	if f := log.Events().Kind(history.KindLinkDialFail); len(f) != 0 {
		t.Errorf("dial failures with the server up: %v", f)
	}
}

func TestLinkDialFailRecorded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there any more: the link's dial is refused
	log := newLog()
	l, err := newTestEmbedded(t, log).Link(ctx(t), "s1", dead)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, l.Addr())
	readClosed(t, c, 2*time.Second)
	var fails history.History
	eventually(t, 2*time.Second, func() bool {
		fails = log.Events().Kind(history.KindLinkDialFail)
		return len(fails) > 0
	}, "a link.dial_fail:\n%v", log.Events())
	h := log.Events()
	acc := h.Kind(history.KindLinkAccept)
	if len(acc) != 1 || len(fails) != 1 {
		t.Fatalf("want one link.accept and one link.dial_fail, got:\n%v", h)
	}
	me := c.LocalAddr().String()
	if acc[0].Conn != me || fails[0].Conn != me || fails[0].Link != "s1" || fails[0].Reason == "" || fails[0].T < acc[0].T {
		t.Fatalf("link.accept %+v, link.dial_fail %+v; want both for conn %s, the failure after, with its reason", acc[0], fails[0], me)
	}
}

func TestAcceptLogIgnoresOtherLines(t *testing.T) {
	log := newLog()
	a := &acceptLog{link: "s1", rec: log}
	for _, line := range []string{
		`{"level":"info","message":"Started proxy"}`,
		`not json at all`,
		`{"level":"info","message":"Accepted client","client":"127.0.0.1:5"}`,
	} {
		if n, err := a.Write([]byte(line + "\n")); err != nil || n != len(line)+1 {
			t.Fatalf("Write(%q) = %d, %v", line, n, err)
		}
	}
	h := log.Events()
	if len(h) != 1 || h[0].Kind != history.KindLinkAccept || h[0].Conn != "127.0.0.1:5" {
		t.Fatalf("want exactly one link.accept for 127.0.0.1:5, got %v", h)
	}
}

// A link made without a recorder still takes connections (its accept lines
// go nowhere rather than panicking in Toxiproxy's accept loop).
func TestLinkWithoutRecorder(t *testing.T) {
	up := newEcho(t)
	l, err := newTestEmbedded(t, nil).Link(ctx(t), "s1", up.addr())
	if err != nil {
		t.Fatal(err)
	}
	mustEcho(t, dial(t, l.Addr()))
}

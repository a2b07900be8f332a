package proxy

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// A Toxiproxy in a container is reachable only on ports published when the
// container was made: links take those ports in order, and clients dial the
// host's mapping of each.
func TestRemotePortsAndAddressMap(t *testing.T) {
	up := newEcho(t)
	var ports []int
	for i := 0; i < 2; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
	var mapped []string
	tp := newTestRemote(t, history.Nop{}, WithPorts(ports...), WithMapAddr(func(listen string) (string, error) {
		mapped = append(mapped, listen)
		return listen, nil // the "host mapping" of this test is the identity
	}))
	for i, name := range []string{"s1", "s2"} {
		l, err := tp.Link(ctx(t), name, up.addr())
		if err != nil {
			t.Fatal(err)
		}
		if want := "127.0.0.1:" + strconv.Itoa(ports[i]); l.Addr() != want {
			t.Errorf("link %s at %s, want %s", name, l.Addr(), want)
		}
		mustEcho(t, dial(t, l.Addr()))
	}
	if len(mapped) != 2 {
		t.Errorf("address map called %d times", len(mapped))
	}
	if _, err := tp.Link(ctx(t), "s3", up.addr()); err == nil || !strings.Contains(err.Error(), "ports given to this Toxiproxy are taken") {
		t.Errorf("a third link on two ports: %v", err)
	}
}

func TestRemoteLinkFollowsAnUpstreamThatMoved(t *testing.T) {
	a, b := newEcho(t), newEcho(t)
	tp := newTestRemote(t, history.Nop{})
	l, err := tp.Link(ctx(t), "s1", a.addr())
	if err != nil {
		t.Fatal(err)
	}
	id := apply(t, l, "down", nil, "")
	if err := l.SetUpstream(ctx(t), b.addr()); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", l.Addr()); err == nil {
		c.Close()
		t.Fatal("a link that is down came up when pointed elsewhere")
	}
	heal(t, l, id)
	mustEcho(t, dial(t, l.Addr()))
	b.waitAccepts(t, 1)
	if n := a.accepts.Load(); n != 0 {
		t.Errorf("the old upstream got %d connections after the link moved", n)
	}
	if err := l.SetUpstream(ctx(t), "nonsense"); err == nil {
		t.Error("a bad upstream was accepted")
	}
}

package proxy

import (
	"net"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestRemoteCloseDeletesProxies(t *testing.T) {
	srv, url := apiServer(t)
	up := newEcho(t)
	r, err := NewRemote(url, history.Nop{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := r.Link(ctx(t), n, up.addr()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Collection.Proxies()); n != 2 {
		t.Fatalf("%d proxies on the server", n)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Collection.Proxies()); n != 0 {
		t.Fatalf("%d proxies left on the server after Close", n)
	}
}

func TestRemoteAddresses(t *testing.T) {
	up := newEcho(t)
	// Listening on every interface remotely: clients dial the API's host.
	tp := newTestRemote(t, history.Nop{}, WithListen("0.0.0.0"))
	l, err := tp.Link(ctx(t), "s1", up.addr())
	if err != nil {
		t.Fatal(err)
	}
	if host, port, _ := net.SplitHostPort(l.Addr()); host != "127.0.0.1" || port == "0" {
		t.Fatalf("addr %s", l.Addr())
	}
	mustEcho(t, dial(t, l.Addr()))

	tp = newTestRemote(t, history.Nop{}, WithAdvertise("localhost"))
	if l, err = tp.Link(ctx(t), "s1", up.addr()); err != nil || !strings.HasPrefix(l.Addr(), "localhost:") {
		t.Fatalf("advertised addr %v, %v", l, err)
	}
}

func TestRemoteUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing answers there now
	if _, err := NewRemote("http://"+addr, history.Nop{}); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("NewRemote on a dead address: %v", err)
	}
}

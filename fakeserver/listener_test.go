package fakeserver

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// The recording listener numbers and records every accept, and records each
// connection's close once: at once while unclaimed ("not_upgraded", or
// "shutdown" once the server shuts), by its handler once claimed.
func TestRecListenerRecordsAcceptsAndCloses(t *testing.T) {
	var mu sync.Mutex
	var got []history.Event
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewRecListener(l, "s1", func(e history.Event) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e)
	})
	defer ln.Close()
	accept := func() *RecConn {
		t.Helper()
		d, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Close() })
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		rc := c.(*RecConn)
		if RawConn(ConnContext(context.Background(), c)) != rc {
			t.Error("RawConn does not find the connection ConnContext stored")
		}
		return rc
	}
	c1 := accept()
	_ = c1.Close() // unclaimed: the HTTP side gave up on it
	c2 := accept()
	c2.Claim()
	_ = c2.Close() // claimed: its handler records
	c2.RecordClose("transport")
	c2.RecordClose("again")
	ln.Shut()
	c3 := accept()
	_ = c3.Close()
	if RawConn(context.Background()) != nil {
		t.Error("RawConn of a context without a connection")
	}

	want := []history.Event{
		{Kind: history.KindAccept, Conn: "s1#1"},
		{Kind: history.KindConnClose, Conn: "s1#1", Reason: "not_upgraded"},
		{Kind: history.KindAccept, Conn: "s1#2"},
		{Kind: history.KindConnClose, Conn: "s1#2", Reason: "transport"},
		{Kind: history.KindAccept, Conn: "s1#3"},
		{Kind: history.KindConnClose, Conn: "s1#3", Reason: "shutdown"},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i, w := range want {
		if g := got[i]; g.Kind != w.Kind || g.Conn != w.Conn || g.Reason != w.Reason {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
	}
	if c1.ID() != "s1#1" || c3.ID() != "s1#3" {
		t.Errorf("ids %s %s", c1.ID(), c3.ID())
	}
}

package fakeserver

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/faultline/faultline/harness/history"
)

// recListener records every accepted TCP connection before anything reads
// from it: Toxiproxy dials the upstream once per client attempt, so accepts
// are the server-side count of attempts even when the link then breaks them.
type recListener struct {
	net.Listener
	name   string
	record func(history.Event)
	n      atomic.Int64
	shut   atomic.Bool // set when the server shuts down: closes from then on are "shutdown"
}

func (l *recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s#%d", l.name, l.n.Add(1))
	l.record(history.Event{Kind: history.KindAccept, Conn: id})
	return &recConn{Conn: c, id: id, ln: l}, nil
}

func (l *recListener) Close() error {
	l.shut.Store(true)
	return l.Listener.Close()
}

// recConn records conn.close exactly once. Until the WebSocket handler claims
// it, closing records at once (the HTTP side gave up on it); once claimed, the
// handler records after its session events so the history keeps causal order.
type recConn struct {
	net.Conn
	id      string
	ln      *recListener
	claimed atomic.Bool
	once    sync.Once
}

func (c *recConn) Close() error {
	err := c.Conn.Close()
	if !c.claimed.Load() {
		reason := "not_upgraded"
		if c.ln.shut.Load() {
			reason = "shutdown"
		}
		c.recordClose(reason)
	}
	return err
}

func (c *recConn) recordClose(reason string) {
	c.once.Do(func() {
		c.ln.record(history.Event{Kind: history.KindConnClose, Conn: c.id, Reason: reason})
	})
}

package fakeserver

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/faultline/faultline/harness/history"
)

// RecListener records every accepted TCP connection before anything reads
// from it: Toxiproxy dials the upstream once per client attempt, so accepts
// are the server-side count of attempts even when the link then breaks them.
// Its connections are RecConns, with ids <name>#1, <name>#2, … in accept
// order. The WebSocket kinds of the session and platform packs serve their
// HTTP upgrades on it.
type RecListener struct {
	net.Listener
	name   string
	record func(history.Event)
	n      atomic.Int64
	shut   atomic.Bool // set when the server shuts down: closes from then on are "shutdown"
}

// NewRecListener wraps l for the server named name; record stamps the
// server's identity on an event and records it (accept, conn.close).
func NewRecListener(l net.Listener, name string, record func(history.Event)) *RecListener {
	return &RecListener{Listener: l, name: name, record: record}
}

// Accept records the connection (accept) and returns it as a *RecConn.
func (l *RecListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s#%d", l.name, l.n.Add(1))
	l.record(history.Event{Kind: history.KindAccept, Conn: id})
	return &RecConn{Conn: c, id: id, ln: l}, nil
}

// Close closes the listener; connections closed unclaimed from then on
// record "shutdown".
func (l *RecListener) Close() error {
	l.Shut()
	return l.Listener.Close()
}

// Shut marks the server as shutting down (before its connections are
// closed): an unclaimed connection closed from then on records "shutdown"
// rather than "not_upgraded".
func (l *RecListener) Shut() { l.shut.Store(true) }

// RecConn records conn.close exactly once. Until the WebSocket handler claims
// it, closing records at once (the HTTP side gave up on it); once claimed, the
// handler records after its session events so the history keeps causal order.
type RecConn struct {
	net.Conn
	id      string
	ln      *RecListener
	claimed atomic.Bool
	once    sync.Once
}

// ID is the connection's id in the history (<name>#<n>).
func (c *RecConn) ID() string { return c.id }

// Claim hands the recording of conn.close to the handler (RecordClose).
func (c *RecConn) Claim() { c.claimed.Store(true) }

// Close closes the connection, and records conn.close unless claimed.
func (c *RecConn) Close() error {
	err := c.Conn.Close()
	if !c.claimed.Load() {
		reason := "not_upgraded"
		if c.ln.shut.Load() {
			reason = "shutdown"
		}
		c.RecordClose(reason)
	}
	return err
}

// RecordClose records conn.close with reason, once per connection.
func (c *RecConn) RecordClose(reason string) {
	c.once.Do(func() {
		c.ln.record(history.Event{Kind: history.KindConnClose, Conn: c.id, Reason: reason})
	})
}

type rawConnKey struct{}

// ConnContext is an http.Server's ConnContext for a server on a
// RecListener: it lets the handler find the recording connection under the
// one it hijacks (RawConn).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, rawConnKey{}, c)
}

// RawConn is the RecConn an HTTP request arrived on (ConnContext), or nil.
func RawConn(ctx context.Context) *RecConn {
	c, _ := ctx.Value(rawConnKey{}).(*RecConn)
	return c
}

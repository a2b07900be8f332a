package main

import (
	"bytes"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/faultline/faultline/drivers/kit"
)

// errClosed is the opener's answer once the session is closed: paho's
// reconnect loop may still run a pass (it sees Disconnect() only between
// passes), and no new connection may come of it.
var errClosed = errors.New("driver: session closed, no new connection")

// urlMap maps the host:port paho dials (uri.Host of the broker URL,
// options.go AddBroker()) back to the URL string the harness gave.
func urlMap(servers []string) map[string]string { return kit.URLMap(servers, hostPort) }

// hostPort is a URL's host as paho dials it ("" if unparsable), with
// AddBroker()'s defaults (tcp:// when no scheme, 127.0.0.1 when no host).
func hostPort(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, ":") {
		s = "127.0.0.1" + s
	}
	if !strings.Contains(s, "://") {
		s = "tcp://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Host
}

// open is the session's mqtt.OpenConnectionFunc (SetCustomOpenConnectionFn):
// client.go attemptConnection() calls it once per broker tried (twice when
// it falls back to MQTT 3.1). It reports the dial with the harness's URL,
// dials as netconn.go openConnection() does for tcp:// and mqtt:// (the
// options' Dialer, whose Timeout SetConnectTimeout set), and wraps the
// connection to read the CONNACK.
func (s *session) open(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	u := s.urlFor(uri.Host)
	if !s.dialing(u) {
		return nil, errClosed
	}
	d := o.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: o.ConnectTimeout}
	}
	c, err := d.Dial("tcp", uri.Host)
	if err != nil {
		s.dialFailed(u, err)
		return nil, err
	}
	tc := &trackConn{Conn: c, s: s, url: u}
	if !s.track(tc, true) { // closed while dialing
		c.Close()
		return nil, errClosed
	}
	return tc, nil
}

// trackConn is one connection paho opened: the session closes what is
// left of them on close, and learns from the first bytes each side sends
// the protocol level of the CONNECT and the broker's CONNACK (return code,
// session present), which name the connection a later OnConnect is about.
type trackConn struct {
	net.Conn
	s   *session
	url string

	mu       sync.Mutex
	v31      bool // the CONNECT was MQTT 3.1 (paho's fallback)
	wrote    bool
	in       []byte
	done     bool
	closeOne sync.Once
}

func (c *trackConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if !c.wrote {
		// The first write is the whole CONNECT (packets.ConnectPacket.Write).
		c.wrote = true
		c.v31 = bytes.Contains(p, []byte("MQIsdp"))
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *trackConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.sniff(p[:n])
	}
	return n, err
}

// sniff reads the CONNACK: 0x20, length 2, flags (bit 0 session present),
// return code (verifyCONNACK() in net.go reads it as the first packet).
func (c *trackConn) sniff(b []byte) {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return
	}
	c.in = append(c.in, b...)
	if len(c.in) < 4 {
		c.mu.Unlock()
		return
	}
	c.done = true
	in, v31 := c.in[:4], c.v31
	c.in = nil
	c.mu.Unlock()
	if in[0] != packets.Connack<<4 || in[1] != 2 {
		return // not a CONNACK: paho fails the handshake itself
	}
	if rc := in[3]; rc != packets.Accepted {
		c.s.refused(c.url, rc, v31)
		return
	}
	c.s.accepted(c.url, in[2]&1 == 1)
}

func (c *trackConn) Close() error {
	err := c.Conn.Close()
	c.closeOne.Do(func() { c.s.track(c, false) })
	return err
}

package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"github.com/nats-io/nats.go"
)

// urlMap maps the host:port nats.go dials back to the URL string the
// harness gave (nats.go parses each URL and dials u.Host, adding the
// default port 4222 when there is none: parseServerURL()).
func urlMap(servers []string) map[string]string { return kit.URLMap(servers, hostPort) }

// hostPort is a URL's host:port as nats.go dials it ("" if unparsable).
func hostPort(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = strconv.Itoa(nats.DefaultPort)
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// dialer is the session's nats.CustomDialer: it reports every TCP dial
// nats.go starts (createConn() calls Dial once per attempt) with the URL
// the harness gave, and its failure, and honours the connect timeout (with
// a CustomDialer, nats.go leaves the dial timeout to the dialer).
type dialer struct {
	s       *session
	timeout time.Duration
}

func (d *dialer) Dial(network, address string) (net.Conn, error) {
	u := d.s.urlFor(address)
	d.s.dialing(u)
	c, err := (&net.Dialer{Timeout: d.timeout}).Dial(network, address)
	if err != nil {
		d.s.dialFailed(u, err)
		// Returned as is: nats.go connect() tells "connection refused"
		// apart by its text.
		return nil, err
	}
	return &sniffConn{Conn: c, s: d.s, url: u}, nil
}

// sniffConn reads along the first two lines the server sends on a new
// connection: INFO (server_id, client_id: the session's identity) and the
// PONG that completes the handshake. The identity of the last connection
// whose handshake completed names the session in CONNECTED_ACTIVE, exact
// even when nats.go's callback runs after the connection has changed again.
type sniffConn struct {
	net.Conn
	s    *session
	url  string
	buf  []byte
	done bool
	id   string
}

const sniffMax = 64 << 10

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.done && n > 0 {
		c.sniff(p[:n])
	}
	return n, err
}

func (c *sniffConn) sniff(b []byte) {
	c.buf = append(c.buf, b...)
	for !c.done {
		i := bytes.Index(c.buf, []byte("\r\n"))
		if i < 0 {
			if len(c.buf) > sniffMax {
				c.done, c.buf = true, nil
			}
			return
		}
		line := string(c.buf[:i])
		c.buf = c.buf[i+2:]
		switch {
		case c.id == "" && strings.HasPrefix(line, "INFO "):
			var info struct {
				ID  string `json:"server_id"`
				CID uint64 `json:"client_id"`
			}
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "INFO ")), &info) == nil {
				c.id = info.ID + "/" + strconv.FormatUint(info.CID, 10)
			}
		case line == "PONG" && c.id != "":
			c.s.handshaken(c.url, c.id)
			c.done, c.buf = true, nil
		case line == "+OK":
		default:
			c.done, c.buf = true, nil // -ERR or anything else: no handshake here
		}
	}
}

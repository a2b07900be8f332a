package main

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/faultline/faultline/drivers/kit"
	"google.golang.org/grpc/stats"
)

// hostPort is a server URL's host:port as the driver gives it to the
// manual resolver ("" if unparsable or without a port: gRPC has no default
// port for faultline's grpc:// URLs).
func hostPort(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "grpc://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" || u.Port() == "" {
		return ""
	}
	return net.JoinHostPort(u.Hostname(), u.Port())
}

// urlMap maps the address grpc-go dials back to the URL the harness gave.
func urlMap(servers []string) map[string]string { return kit.URLMap(servers, hostPort) }

// dial is the session's grpc.WithContextDialer: it reports every TCP dial
// grpc-go starts (internal/transport/http2_client.go dial() calls it once
// per attempt on an address, ctx carrying the attempt's connect deadline)
// with the URL the harness gave, and its failure.
func (s *session) dial(ctx context.Context, addr string) (net.Conn, error) {
	u := s.urlFor(addr)
	if s.redial(u) {
		s.errorf("driver: grpc-go's dial of %s again at the end of its first pass not made: the first connect is over", u)
		return nil, errFirstPassOver
	}
	s.dialing(u)
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		s.event(event{Type: "dial", Server: u, Text: err.Error()})
		return nil, err
	}
	return c, nil
}

// errFirstPassOver fails a dial the driver does not make (redial).
var errFirstPassOver = errors.New("driver: the first connect's pass is over")

// redial tells a dial of an address pick_first dialed already during the
// first connect: its first pass never dials an address twice
// (pickfirst.go requestConnectionLocked() only moves forward), and
// endFirstPassIfPossibleLocked() reconnects every subchannel whose
// back-off is over in the very call that reports TRANSIENT_FAILURE, so
// such a dial is the first of grpc-go's retries, made before the driver can
// act on the TRANSIENT_FAILURE that ends the first connect. The driver
// does not make it (driver_adds). round_robin's children each retry on
// their own: not for them.
func (s *session) redial(u string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plan.lb != pickFirst || s.everActive || (s.state != "" && s.state != kit.Connecting) {
		return false
	}
	if s.firstDials[u] {
		return true
	}
	s.firstDials[u] = true
	return false
}

// statsHandler is the session's client stats handler: each transport's
// ConnBegin and ConnEnd (internal/transport/http2_client.go
// NewHTTP2Client() and Close()), keyed by the connection's local address,
// and whether an RPC's request was written (OutPayload). Its calls come
// from grpc-go's transport goroutines: it only queues.
type statsHandler struct{ s *session }

type connKey struct{}

// connTag names one transport: its local and remote addresses.
type connTag struct{ local, remote string }

// sentKey marks an RPC whose request message was handed to a transport.
type sentKey struct{}

func (h statsHandler) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	t := connTag{}
	if info.LocalAddr != nil {
		t.local = info.LocalAddr.String()
	}
	if info.RemoteAddr != nil {
		t.remote = info.RemoteAddr.String()
	}
	return context.WithValue(ctx, connKey{}, t)
}

func (h statsHandler) HandleConn(ctx context.Context, cs stats.ConnStats) {
	t, _ := ctx.Value(connKey{}).(connTag)
	switch cs.(type) {
	case *stats.ConnBegin:
		h.s.push(signal{kind: sigConnBegin, local: t.local, remote: t.remote})
	case *stats.ConnEnd:
		h.s.push(signal{kind: sigConnEnd, local: t.local, remote: t.remote})
	}
}

func (h statsHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (h statsHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	if _, ok := rs.(*stats.OutPayload); ok {
		if m, ok := ctx.Value(sentKey{}).(*writeMark); ok {
			m.mark()
		}
	}
}

// writeMark is closed once an RPC's request message was handed to a
// transport (stream.go csAttempt.sendMsg() reports OutPayload right after
// the transport stream's Write).
type writeMark struct {
	once sync.Once
	ch   chan struct{}
}

func newWriteMark() *writeMark { return &writeMark{ch: make(chan struct{})} }

func (m *writeMark) mark() { m.once.Do(func() { close(m.ch) }) }

func (m *writeMark) marked() bool {
	select {
	case <-m.ch:
		return true
	default:
		return false
	}
}

package fake

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/internal/outbox"
	"github.com/faultline/faultline/packs/mqtt/wire"
)

// readSize is the reader's buffer.
const readSize = 32 << 10

// conn is one client connection.
type conn struct {
	s    *Server
	nc   net.Conn
	id   string // "<name>#<n>"
	out  *outbox.Queue
	done chan struct{} // closed when the connection is closed
	once sync.Once

	sessID    atomic.Value // string: the session, once the CONNECT was accepted (close reads it without s.mu)
	connected atomic.Bool  // a CONNECT was accepted: a read timeout is keepalive's

	// guarded by s.mu
	connectSeen bool // a CONNECT arrived (accepted or not): a second one is a violation
	sess        *session
	level       byte
	keepalive   uint16
}

func newConn(s *Server, nc net.Conn, id string) *conn {
	return &conn{s: s, nc: nc, id: id, out: outbox.New(s.opts.MaxPending), done: make(chan struct{})}
}

// session is the connection's session id ("" before an accepted CONNECT).
func (c *conn) session() string {
	id, _ := c.sessID.Load().(string)
	return id
}

// send queues a frame. A client too far behind is dropped rather than
// waited for.
func (c *conn) send(it outbox.Item) bool {
	switch c.out.Push(it) {
	case outbox.Pushed:
		return true
	case outbox.Full:
		c.close(ReasonErrorPrefix + "slow consumer: more than " + strconv.Itoa(c.s.opts.MaxPending) + " bytes pending")
	}
	return false
}

// finish closes the connection once what is queued, and frame, are
// written: how a refusing CONNACK goes out before the close.
func (c *conn) finish(reason string, frame []byte) {
	c.out.Terminate(reason, frame)
}

// close closes the connection now and records conn.close once: with the
// reason of a finish under way if there is one, else reason.
func (c *conn) close(reason string) {
	c.once.Do(func() {
		if intent := c.out.Close(); intent != "" {
			reason = intent
		}
		c.s.record(history.Event{Kind: history.KindConnClose, Conn: c.id, Session: c.session(), Reason: reason})
		_ = c.nc.Close()
		close(c.done)
	})
}

// readLoop decodes what the client sends and acts on it, until the
// connection ends. Its read deadline is the keepalive: 1.5 × the CONNECT's
// keepalive from the last packet (§3.1.2.10), ConnectTimeout before it.
func (c *conn) readLoop() {
	defer c.s.wg.Done()
	defer c.s.dropConn(c)
	r := bufio.NewReaderSize(c.nc, readSize)
	lim := wire.Limits{MaxPacket: c.s.opts.MaxPacket}
	for {
		p, err := wire.Read(r, lim)
		if err != nil {
			c.close(c.readReason(err))
			return
		}
		next, ok := c.s.handle(c, p)
		if !ok {
			return
		}
		var dl time.Time
		if next > 0 {
			dl = time.Now().Add(next)
		}
		_ = c.nc.SetReadDeadline(dl)
	}
}

// readReason names why reading ended.
func (c *conn) readReason(err error) string {
	var we *wire.Error
	var ne net.Error
	switch {
	case errors.As(err, &we):
		return ReasonErrorPrefix + we.Error()
	case errors.As(err, &ne) && ne.Timeout():
		if c.connected.Load() {
			return ReasonKeepalive
		}
		return ReasonErrorPrefix + "no CONNECT within " + c.s.opts.ConnectTimeout.String()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET):
		return ReasonEOF
	}
	return ReasonErrorPrefix + "read: " + err.Error()
}

// writeLoop owns every write to the socket: it takes what is queued,
// records the deliver events in it, and writes it in one go, bounded by the
// write deadline.
func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	var bufs net.Buffers
	for {
		select {
		case <-c.done:
			return
		case <-c.out.Ready():
		}
		var last bool
		var failed string
		bufs, last, failed = c.out.Write(c.nc, c.s.opts.WriteDeadline, c.s.record, bufs)
		switch {
		case failed != "":
			c.close(failed)
			return
		case last:
			c.close("") // the reason is the finish's
			return
		}
	}
}

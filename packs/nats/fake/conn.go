package fake

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/internal/outbox"
	"github.com/faultline/faultline/packs/nats/wire"
)

// readSize is the reader's buffer: what one Read may take.
const readSize = 32 << 10

// conn is one client connection.
type conn struct {
	s       *Server
	nc      net.Conn
	id      string // "<name>#<n>"
	cid     uint64
	session string // "<server_id>/<cid>"
	out     *outbox.Queue
	done    chan struct{} // closed when the connection is closed
	once    sync.Once
	shook   atomic.Bool // handshook, for close, which does not take the server's lock

	// guarded by s.mu
	opts      *wire.Connect // the last CONNECT; nil before
	handshook bool          // CONNECT+PING answered with PONG
	infoVer   int           // the announcement its last INFO carried
	pingsOut  int
	pingTimer *time.Timer
	subs      map[string]*sub // by sid
}

func newConn(s *Server, nc net.Conn, id string, cid uint64) *conn {
	return &conn{s: s, nc: nc, id: id, cid: cid,
		session: s.serverID + "/" + strconv.FormatUint(cid, 10),
		out:     outbox.New(s.opts.MaxPending), done: make(chan struct{}), subs: map[string]*sub{}}
}

// send queues a frame (and the event to record when it is written). A
// client too far behind is dropped rather than waited for.
func (c *conn) send(data []byte, ev *history.Event) bool {
	switch c.out.Push(outbox.Item{Data: data, Event: ev}) {
	case outbox.Pushed:
		return true
	case outbox.Full:
		c.close(ReasonErrorPrefix+"slow consumer: more than "+strconv.Itoa(c.s.opts.MaxPending)+" bytes pending", true)
	}
	return false
}

// finish closes the connection once what is queued, and -ERR errText if
// given, is written: how nats-server ends a connection it has a word for.
func (c *conn) finish(reason, errText string) {
	var frame []byte
	if errText != "" {
		frame = wire.AppendErr(nil, errText)
	}
	c.out.Terminate(reason, frame)
}

// close closes the connection now and, if record, records conn.close once:
// with the reason of a finish under way if there is one, else reason.
func (c *conn) close(reason string, record bool) {
	c.once.Do(func() {
		if intent := c.out.Close(); intent != "" {
			reason = intent
		}
		if record {
			e := history.Event{Kind: history.KindConnClose, Conn: c.id, Reason: reason}
			if c.shook.Load() {
				e.Session = c.session
			}
			c.s.record(e)
		}
		_ = c.nc.Close()
		close(c.done)
	})
}

// stopPings stops the server's PINGs; with s.mu held.
func (c *conn) stopPings() {
	if c.pingTimer != nil {
		c.pingTimer.Stop()
		c.pingTimer = nil
	}
}

// readLoop parses what the client sends and acts on it, until the
// connection ends. It has no read deadline: an idle client is legitimate,
// and every way the server ends a connection closes the socket under it.
func (c *conn) readLoop() {
	defer c.s.wg.Done()
	defer c.s.dropConn(c)
	p := wire.NewParser(wire.Limits{MaxPayload: c.s.opts.MaxPayload})
	buf := make([]byte, readSize)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			p.Feed(buf[:n])
			for {
				op, perr := p.Next()
				if perr != nil {
					c.protocolError(perr)
					return
				}
				if op == nil {
					break
				}
				if !c.s.handle(c, op) {
					return
				}
			}
		}
		if err != nil {
			c.close(ReasonEOF, true) // EOF or reset: the client or its link went away
			return
		}
	}
}

// protocolError answers bytes the server cannot follow as nats-server does:
// -ERR when it has a word for it, then close.
func (c *conn) protocolError(err error) {
	var pe *wire.ParseError
	text := ""
	if errors.As(err, &pe) {
		text = pe.ServerText()
	}
	if text != "" {
		c.s.record(history.Event{Kind: KindErr, Conn: c.id, Reason: text})
	}
	c.finish(ReasonErrorPrefix+err.Error(), text)
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
			c.close(failed, true)
			return
		case last:
			c.close("", true) // the reason is the finish's
			return
		}
	}
}

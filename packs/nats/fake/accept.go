package fake

import (
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/nats/wire"
)

// acceptLoop takes inc's connections until its listener closes.
func (s *Server) acceptLoop(inc *incarnation) {
	defer s.wg.Done()
	for {
		nc, err := inc.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: nats-server backs off and
			// goes on; so does the fake, a little.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.admit(inc, nc)
	}
}

// admit records the accept, sends INFO and starts the connection's reader
// and writer. INFO goes first, before anything is read: a NATS server
// speaks first.
func (s *Server) admit(inc *incarnation, nc net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = nc.Close()
		return
	}
	s.connN++
	inc.cids++
	c := newConn(s, inc, nc, s.name+"#"+strconv.FormatInt(s.connN, 10), inc.cids)
	s.record(history.Event{Kind: history.KindAccept, Conn: c.id})
	if s.cur != inc || inc.lame { // killed or gone lame between Accept and here
		reason := ReasonKilled
		if inc.lame {
			reason = ReasonLameDuck
		}
		c.close(reason, true)
		return
	}
	inc.conns[c] = struct{}{}
	c.infoVer = s.announceVer
	c.send(wire.AppendInfo(nil, s.info(inc, c.cid)), nil)
	s.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
}

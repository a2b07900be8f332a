package fake

import (
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/nats/wire"
)

// acceptLoop takes the server's connections until its listener closes.
func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: nats-server backs off and
			// goes on; so does the fake, a little.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.admit(nc)
	}
}

// admit records the accept, sends INFO and starts the connection's reader
// and writer. INFO goes first, before anything is read: a NATS server
// speaks first.
func (s *Server) admit(nc net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = nc.Close()
		return
	}
	s.cids++
	c := newConn(s, nc, s.name+"#"+strconv.FormatUint(s.cids, 10), s.cids)
	s.record(history.Event{Kind: history.KindAccept, Conn: c.id})
	if s.lame { // gone lame between Accept and here
		c.close(ReasonLameDuck, true)
		return
	}
	s.conns[c] = struct{}{}
	c.infoVer = s.announceVer
	c.send(wire.AppendInfo(nil, s.info(c.cid)), nil)
	s.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
}

package fake

import (
	"strconv"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Publish puts a message on subject through the server itself and delivers
// it to the subscribers; it returns its seq (1, 2, ... per subject per
// server), or 0 on a closed server, which publishes nothing.
func (s *Server) Publish(subject string, payload []byte) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	s.seq[subject]++
	seq := s.seq[subject]
	s.record(history.Event{Kind: history.KindPublish, Topic: subject, Seq: seq})
	s.deliver(subject, "", nil, payload, seq, nil) // frames copy the payload
	return seq
}

// LameDuck enters lame duck mode: the listener closes (new dials are
// refused), every client gets INFO {"ldm":true} with the connect_urls to
// go to (the announced ones, else the peers), and after grace every
// connection still open is closed (reason lame_duck). The server stays down
// until it is closed (a restart by the topology starts a fresh one). It does
// nothing on a closed server or one already lame.
func (s *Server) LameDuck(grace time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.lame {
		return
	}
	s.lame = true
	_ = s.stopListening()
	s.record(history.Event{Kind: KindLameDuck, Attrs: map[string]string{"grace_ms": strconv.FormatInt(grace.Milliseconds(), 10)}})
	urls := s.announced
	if s.announceVer == 0 {
		urls = s.peerList()
	}
	for c := range s.conns {
		s.sendInfo(c, true, urls)
	}
	s.ldTimer = s.afterFunc(grace, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed { // closed meanwhile: its connections are gone already
			return
		}
		for c := range s.conns {
			c.finish(ReasonLameDuck, "") // the ldm INFO may still be queued (grace 0): let it out
		}
	})
}

// Announce sends every connected client an INFO with connect_urls (nil:
// the peers), and puts them in every later INFO, as a cluster does when a
// member joins.
func (s *Server) Announce(urls []string) { s.AnnounceNamed(urls, nil) }

// AnnounceNamed is Announce with the scenario names of the servers behind
// urls (names[i] names urls[i]): every nats.info whose connect_urls hold a
// named URL records the names as Attrs{announced}, since a history holds
// no link's URL to map connect_urls back to servers.
func (s *Server) AnnounceNamed(urls, names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if urls == nil {
		urls = s.peerList()
	}
	for i, u := range urls {
		if i < len(names) && names[i] != "" {
			if s.urlNames == nil {
				s.urlNames = map[string]string{}
			}
			s.urlNames[u] = names[i]
		}
	}
	s.announced = append([]string{}, urls...)
	s.announceVer++
	if s.closed {
		return
	}
	for c := range s.conns {
		s.sendInfo(c, false, s.announced)
	}
}

// SetPeers sets the cluster's other members' client URLs: the
// connect_urls of Announce(nil) and of lame duck mode when nothing was
// announced. It overrides Options.Peers.
func (s *Server) SetPeers(urls []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peers = append([]string{}, urls...)
}

// Refuse answers every later CONNECT with -ERR '<text>' and closes the
// connection (handshake OK=false, reason refused); Refuse("") admits again.
func (s *Server) Refuse(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = text
}

// WithholdPongs on leaves the clients' PINGs after the handshake
// unanswered (the handshake's own PING is still answered), as a server
// whose replies are lost would.
func (s *Server) WithholdPongs(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.withhold = on
}

// CloseConnections closes every client connection at once (reason
// server_close); the server goes on accepting.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for c := range s.conns {
		c.stopPings()
		c.close(ReasonServerClose, true)
	}
}

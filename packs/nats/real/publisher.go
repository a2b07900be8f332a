package real

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// PublisherName is the CONNECT name of the harness's own publishing
// connection; it is excluded from the evidence.
const PublisherName = "faultline-publisher"

const pubTimeout = 5 * time.Second // dial, handshake, and each publish's PONG

// publisher is the harness's own client connection to the server, speaking
// the NATS text protocol by hand. Its reader answers the server's PINGs, so
// it does not go stale between publishes.
type publisher struct {
	c          net.Conn
	maxPayload int

	wmu   sync.Mutex
	pongs chan struct{}
	dead  chan struct{} // closed when the reader ends
}

// Publish publishes payload on subject through the server, as a client
// would (PUB, then PING and wait for PONG: by then the server has routed
// the message to its subscribers). It records publish with the subject's
// next sequence number (1, 2, ... per subject per server) and returns it;
// 0 when there is no running server to publish to (recorded as a harness
// error). A server killed after the publish was recorded takes the message
// with it, as a real one would.
func (s *Server) Publish(subject string, payload []byte) int64 {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	inc, closed := s.inc, s.closed
	s.mu.Unlock()
	fail := func(why string) int64 {
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "publish on " + s.name + ": " + why})
		return 0
	}
	switch {
	case closed:
		return fail("the server is closed")
	case subject == "" || strings.ContainsAny(subject, " \t\r\n"):
		return fail(fmt.Sprintf("bad subject %q", subject))
	}
	if s.pub != nil && s.pub.isDead() {
		s.pub.close()
		s.pub = nil
	}
	if s.pub == nil {
		p, err := s.dialPublisher(inc)
		if err != nil {
			return fail(err.Error())
		}
		s.pub = p
	}
	p := s.pub
	if p.maxPayload > 0 && len(payload) > p.maxPayload {
		return fail(fmt.Sprintf("payload of %d bytes exceeds max_payload %d", len(payload), p.maxPayload))
	}
	inc.mu.Lock()
	inc.seq[subject]++
	seq := inc.seq[subject]
	inc.mu.Unlock()
	// Recorded before the PUB is written: a subscriber's receipt is never
	// recorded before the publish.
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindPublish, Server: s.name,
		Topic: subject, Seq: seq})
	select { // a PONG left over from a publish that timed out
	case <-p.pongs:
	default:
	}
	msg := make([]byte, 0, len(subject)+len(payload)+32)
	msg = fmt.Appendf(msg, "PUB %s %d\r\n", subject, len(payload))
	msg = append(msg, payload...)
	msg = append(msg, "\r\nPING\r\n"...)
	if err := p.write(msg); err != nil {
		return seq
	}
	t := time.NewTimer(pubTimeout)
	defer t.Stop()
	select {
	case <-p.pongs:
	case <-p.dead:
	case <-t.C:
	}
	return seq
}

// dialPublisher connects to inc: INFO, CONNECT+PING, PONG.
func (s *Server) dialPublisher(inc *incarnation) (*publisher, error) {
	s.dials.begin()
	c, err := net.DialTimeout("tcp", s.Addr(), pubTimeout)
	local := ""
	if err == nil {
		local = c.LocalAddr().String()
	}
	s.dials.end(local)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*publisher, error) {
		_ = c.Close()
		return nil, fmt.Errorf("publisher handshake: %w", err)
	}
	_ = c.SetDeadline(time.Now().Add(pubTimeout))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return fail(err)
	}
	info, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "INFO ")
	if !ok {
		return fail(fmt.Errorf("expected INFO, got %q", line))
	}
	var in struct {
		ServerID   string `json:"server_id"`
		ClientID   uint64 `json:"client_id"`
		MaxPayload int    `json:"max_payload"`
	}
	if err := json.Unmarshal([]byte(info), &in); err != nil {
		return fail(err)
	}
	if in.ServerID != inc.id { // another server on the address, this one gone: not ours to publish on
		return fail(fmt.Errorf("another server (server_id %s) answered", in.ServerID))
	}
	inc.setPubCid(in.ClientID)
	connect, _ := json.Marshal(map[string]any{"verbose": false, "pedantic": false, "echo": false,
		"name": PublisherName, "lang": "faultline", "version": "0", "protocol": 1})
	if _, err := c.Write([]byte("CONNECT " + string(connect) + "\r\nPING\r\n")); err != nil {
		return fail(err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fail(err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "PONG" {
			break
		}
		if strings.HasPrefix(line, "-ERR") {
			return fail(errors.New(line))
		}
	}
	_ = c.SetDeadline(time.Time{})
	p := &publisher{c: c, maxPayload: in.MaxPayload, pongs: make(chan struct{}, 1), dead: make(chan struct{})}
	go p.read(r)
	return p, nil
}

// read answers the server's PINGs and passes its PONGs on, until the
// connection ends.
func (p *publisher) read(r *bufio.Reader) {
	defer close(p.dead)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch strings.TrimRight(line, "\r\n") {
		case "PING":
			if p.write([]byte("PONG\r\n")) != nil {
				return
			}
		case "PONG":
			select {
			case p.pongs <- struct{}{}:
			default:
			}
		}
	}
}

func (p *publisher) write(b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.c.SetWriteDeadline(time.Now().Add(pubTimeout))
	_, err := p.c.Write(b)
	return err
}

func (p *publisher) isDead() bool {
	select {
	case <-p.dead:
		return true
	default:
		return false
	}
}

// close ends the connection and waits for the reader.
func (p *publisher) close() {
	_ = p.c.Close()
	<-p.dead
}

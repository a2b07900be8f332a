package fake

import (
	"strconv"
	"strings"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/packs/internal/msgseq"
	"github.com/faultline/faultline/packs/nats/wire"
)

// handle acts on one op from c; false ends the reading (the connection is
// closing).
func (s *Server) handle(c *conn, op wire.Op) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch o := op.(type) {
	case *wire.Connect:
		return s.onConnect(c, o)
	case *wire.Ping:
		s.onPing(c)
		return true
	case *wire.Pong:
		c.pingsOut = 0
		return true
	case *wire.Sub:
		s.onSub(c, o)
	case *wire.Unsub:
		s.onUnsub(c, o)
	case *wire.Pub:
		s.onPub(c, o.Subject, o.Reply, nil, o.Payload)
	case *wire.HPub:
		if c.opts == nil || !c.opts.Headers {
			// nats-server's ErrMsgHeadersNotSupported: closed without -ERR.
			c.finish(ReasonErrorPrefix+"HPUB from a client that did not declare headers in CONNECT", "")
			return false
		}
		s.onPub(c, o.Subject, o.Reply, o.Header, o.Payload)
	}
	s.ok(c)
	return true
}

// ok answers a verbose client's op with +OK, as nats-server does.
func (s *Server) ok(c *conn) {
	if c.opts != nil && c.opts.Verbose {
		c.send(wire.AppendOK(nil), nil)
	}
}

func (s *Server) onConnect(c *conn, o *wire.Connect) bool {
	s.record(history.Event{Kind: KindConnect, Conn: c.id, Attrs: connectAttrs(o)})
	if text := s.refuse; text != "" {
		s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, OK: false, Session: c.session, Reason: text,
			Attrs: map[string]string{"name": o.Name}})
		s.record(history.Event{Kind: KindErr, Conn: c.id, Reason: text})
		c.finish(ReasonRefused, text)
		return false
	}
	first := c.opts == nil
	c.opts = o
	s.ok(c)
	if first && s.opts.PingInterval > 0 {
		s.armPing(c)
	}
	return true
}

// onPing answers the client's PING. The first PING after CONNECT completes
// the handshake and is always answered; later ones are withheld while
// WithholdPongs is on.
func (s *Server) onPing(c *conn) {
	answered := func(v bool) map[string]string { return map[string]string{"answered": strconv.FormatBool(v)} }
	switch {
	case c.opts != nil && !c.handshook:
		c.handshook = true
		c.shook.Store(true)
		s.record(history.Event{Kind: KindPing, Conn: c.id, Attrs: answered(true)})
		s.record(history.Event{Kind: history.KindHandshake, Conn: c.id, OK: true, Session: c.session,
			Attrs: map[string]string{"name": c.opts.Name}})
		c.send(wire.AppendPong(nil), nil)
		if c.infoVer != s.announceVer { // announced between its INFO and now: tell it, as nats-server does after the first PONG
			s.sendInfo(c, false, s.announced)
		}
	case c.handshook && s.withhold:
		s.record(history.Event{Kind: KindPing, Conn: c.id, Attrs: answered(false)})
	default:
		s.record(history.Event{Kind: KindPing, Conn: c.id, Attrs: answered(true)})
		c.send(wire.AppendPong(nil), nil)
	}
}

// sendInfo sends c an asynchronous INFO, if c can take one: nats-server
// sends them only to clients past their first PONG that declared protocol
// >= 1 (an INFO in the middle of the handshake breaks nats.go's connect).
func (s *Server) sendInfo(c *conn, ldm bool, urls []string) {
	if !c.handshook || c.opts.Protocol < 1 {
		return
	}
	in := s.info(c.cid)
	in.ConnectURLs = append([]string(nil), urls...)
	in.LameDuck = ldm
	attrs := map[string]string{"connect_urls": strings.Join(urls, ",")}
	var named []string
	for _, u := range urls {
		if n := s.urlNames[u]; n != "" {
			named = append(named, n)
		}
	}
	if len(named) > 0 {
		attrs["announced"] = strings.Join(named, ",")
	}
	if ldm {
		attrs["ldm"] = "true"
	}
	c.infoVer = s.announceVer
	s.record(history.Event{Kind: KindInfo, Conn: c.id, Attrs: attrs})
	c.send(wire.AppendInfo(nil, in), nil)
}

func (s *Server) onSub(c *conn, o *wire.Sub) {
	s.record(history.Event{Kind: history.KindSubscribe, Conn: c.id, Session: c.session, Topic: o.Subject,
		Attrs: map[string]string{"sid": o.SID}})
	if _, dup := c.subs[o.SID]; dup { // nats-server keeps the first
		return
	}
	sb := &sub{c: c, subject: o.Subject, queue: o.Queue, sid: o.SID}
	c.subs[o.SID] = sb
	s.subs.add(sb)
}

func (s *Server) onUnsub(c *conn, o *wire.Unsub) {
	sb := c.subs[o.SID]
	if sb == nil {
		return
	}
	if o.Max > 0 && sb.delivered < o.Max {
		sb.max = o.Max // auto-unsubscribe after max messages in all
		return
	}
	s.unsubscribe(sb)
}

func (s *Server) unsubscribe(sb *sub) {
	delete(sb.c.subs, sb.sid)
	s.subs.remove(sb)
}

// onPub records a client's message and delivers it.
func (s *Server) onPub(c *conn, subject, reply string, hdr, payload []byte) {
	seq := msgseq.Of(payload)
	s.record(history.Event{Kind: history.KindReceive, Conn: c.id, Session: c.session, Topic: subject, Seq: seq,
		Attrs: map[string]string{"bytes": strconv.Itoa(len(hdr) + len(payload))}})
	s.deliver(subject, reply, hdr, payload, seq, c)
}

// deliver writes a message to every subscription that matches
// subject (one per queue group), skipping from's own when it asked for no
// echo. Only queueing happens here: a subscriber that does not read delays
// no one.
func (s *Server) deliver(subject, reply string, hdr, payload []byte, seq int64, from *conn) {
	for _, sb := range s.subs.match(subject, func(sb *sub) bool {
		return sb.c != from || from.opts == nil || from.opts.Echo
	}) {
		var frame []byte
		if hdr != nil && sb.c.opts != nil && sb.c.opts.Headers {
			frame = wire.AppendHMsg(nil, subject, sb.sid, reply, hdr, payload)
		} else { // a client without headers gets the payload alone, as from nats-server
			frame = wire.AppendMsg(nil, subject, sb.sid, reply, payload)
		}
		ev := &history.Event{Source: history.SrcServer, Kind: history.KindDeliver, Conn: sb.c.id, Session: sb.c.session,
			Topic: subject, Seq: seq}
		if !sb.c.send(frame, ev) {
			continue
		}
		sb.delivered++
		if sb.max > 0 && sb.delivered >= sb.max {
			s.unsubscribe(sb)
		}
	}
}

// armPing schedules the server's next PING to c; with s.mu held.
func (s *Server) armPing(c *conn) {
	c.pingTimer = s.afterFunc(s.opts.PingInterval, func() { s.pingTick(c) })
}

// pingTick is nats-server's ping timer: a client with MaxPingsOut PINGs
// unanswered is stale; otherwise it gets one more.
func (s *Server) pingTick(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.pingTimer == nil || c.out.Closing() { // dropped, or closing for another reason: no verdict on it
		return
	}
	if c.pingsOut+1 > s.opts.MaxPingsOut {
		c.pingTimer = nil
		s.record(history.Event{Kind: KindErr, Conn: c.id, Reason: "Stale Connection"})
		c.finish(ReasonStale, "Stale Connection")
		return
	}
	c.pingsOut++
	c.send(wire.AppendPing(nil), nil)
	s.armPing(c)
}

// dropConn forgets a connection whose reader has ended.
func (s *Server) dropConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.stopPings()
	for _, sb := range c.subs {
		s.subs.remove(sb)
	}
	c.subs = map[string]*sub{}
	delete(s.conns, c)
}

package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/faultline/faultline/drivers/kit"
)

const (
	// closeWait bounds how long a close waits for paho's connections to end.
	closeWait = 2 * time.Second
	// quiesce is Disconnect()'s wait for the DISCONNECT to go out (ms).
	quiesce = 250
)

// session is one client's paho client and its lifecycle as reported to the
// harness. Lock order: s.mu is never held while calling into paho.
//
// paho runs OnConnect and OnConnectionLost each on a goroutine of its own
// (client.go startCommsWorkers(), internalConnLost()), so they may arrive
// out of order around a quick loss. The session therefore counts
// connections: gen n is the n-th connection whose CONNACK accepted (seen on
// the wire by trackConn), the n-th OnConnect and the n-th OnConnectionLost
// are about gen n, and a state is reported once per gen, in gen order.
type session struct {
	d           *Driver
	client      *int
	id          string // the MQTT client id: the session's identity
	urls        map[string]string
	servers     []string
	reconnect   bool
	resubscribe bool
	qos         byte

	mu       sync.Mutex
	cl       mqtt.Client
	state    string
	server   string // the server of the last state (the lost one while recovering)
	closing  bool
	lastDial string
	conns    map[*trackConn]bool
	acc      int            // connections whose CONNACK accepted
	accURL   map[int]string // gen → its server
	present  map[int]bool   // gen → CONNACK session present
	upGen    int            // the gen CONNECTED_ACTIVE was last reported for
	cons     int            // OnConnect calls
	losses   int            // OnConnectionLost calls
	topics   []string       // every subscribed topic, in order
	pending  map[string]bool
	// connected is closed at the first CONNECTED_ACTIVE or close; closed at the close.
	connected chan struct{}
	closed    chan struct{}
}

func (s *session) event(e event) {
	e.Client = s.client
	s.d.out.Send(e)
}

func (s *session) errorf(format string, a ...any) {
	s.event(event{Type: "error", Text: fmt.Sprintf(format, a...)})
}

// moveLocked reports a state change, keeping the lifecycle rule: nothing
// after a close, no repeated state, only legal transitions. s.mu is held.
func (s *session) moveLocked(to, native, server, reason string) bool {
	from := s.state
	if kit.IsClosed(from) || from == to {
		return false
	}
	if !kit.Legal(from, to) {
		fmt.Fprintf(os.Stderr, "paho.mqtt.golang driver: client %s: dropped %s -> %s (%s)\n", kit.Label(s.client), from, to, native)
		return false
	}
	if server != "" {
		s.server = server
	}
	s.state = to
	sess := s.id
	if to == kit.Connecting || s.upGen == 0 { // no session before a first CONNACK
		sess = ""
	}
	s.event(event{Type: "state", From: from, To: to, Phase: kit.Phase(to), Native: native, Server: s.server, Session: sess, Reason: reason})
	switch {
	case to == kit.Active:
		kit.CloseOnce(s.connected)
	case kit.IsClosed(to):
		kit.CloseOnce(s.connected)
		kit.CloseOnce(s.closed)
	}
	return true
}

func (s *session) move(to, native, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moveLocked(to, native, "", reason)
}

// busy tells a session still open or opening: a connect for its client is
// refused ("already connected").
func (s *session) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !kit.IsClosed(s.state)
}

// urlFor maps a dialed host:port back to the URL the harness gave.
func (s *session) urlFor(host string) string {
	if u, ok := s.urls[host]; ok {
		return u
	}
	return "mqtt://" + host
}

// dialing is called by the opener before each dial; false: the session is
// closed, dial nothing. The first dial opens the session (CONNECTING names
// the first broker). A dial while still CONNECTED_ACTIVE is a reconnect
// whose loss nobody reported yet (OnConnectionLost runs on its own
// goroutine): the session is recovering, reported before the dial.
func (s *session) dialing(u string) bool {
	s.mu.Lock()
	if s.closing || kit.IsClosed(s.state) {
		s.mu.Unlock()
		return false
	}
	s.lastDial = u
	switch {
	case s.state == "":
		s.moveLocked(kit.Connecting, "Connect", u, "")
	case s.state == kit.Active && s.reconnect:
		s.moveLocked(kit.Recovering, "reconnect dial", "", "")
	}
	s.mu.Unlock()
	s.event(event{Type: "dial", Server: u})
	return true
}

func (s *session) dialFailed(u string, err error) {
	s.event(event{Type: "dial", Server: u, Text: err.Error()})
}

// track adds (or removes) a connection paho holds; adding fails once the
// session is closing.
func (s *session) track(c *trackConn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.conns, c)
		return true
	}
	if s.closing {
		return false
	}
	s.conns[c] = true
	return true
}

// accepted: a broker answered CONNACK 0 on a new connection (gen acc).
func (s *session) accepted(u string, present bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acc++
	s.accURL[s.acc] = u
	s.present[s.acc] = present
}

func (s *session) refused(u string, rc byte, v31 bool) {
	level := "MQTT 3.1.1"
	if v31 {
		level = "MQTT 3.1"
	}
	s.errorf("broker %s refused CONNECT (%s): CONNACK return code %d (%s)", u, level, rc, packets.ConnackReturnCodes[rc])
}

// upLocked reports gen as CONNECTED_ACTIVE once, in gen order; a newer gen
// while an older one is still reported active means that one was lost.
func (s *session) upLocked(gen int, native string) {
	if gen <= s.upGen || gen > s.acc || s.closing {
		return
	}
	if s.state == kit.Active {
		s.moveLocked(kit.Recovering, native, "", "")
	}
	s.upGen = gen
	s.moveLocked(kit.Active, native, s.accURL[gen], "")
}

// callbacks sets paho's handlers on o.
func (s *session) callbacks(o *mqtt.ClientOptions) {
	o.SetOnConnectHandler(s.onConnect)
	o.SetConnectionLostHandler(s.onLost)
	o.SetReconnectingHandler(func(mqtt.Client, *mqtt.ClientOptions) {
		// Called before each reconnect pass (client.go reconnect()).
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closing && s.state == kit.Active {
			s.moveLocked(kit.Recovering, "OnReconnecting", "", "")
		}
	})
	o.SetConnectionNotificationHandler(func(_ mqtt.Client, n mqtt.ConnectionNotification) {
		if f, ok := n.(mqtt.ConnectionNotificationFailed); ok {
			s.errorf("paho: attempt failed on every broker: %v", f.Reason)
		}
	})
	o.SetDefaultPublishHandler(s.onMessage)
	o.SetCustomOpenConnectionFn(s.open)
}

func (s *session) onConnect(cl mqtt.Client) {
	s.mu.Lock()
	s.cons++
	gen := s.cons
	s.upLocked(gen, "OnConnect")
	var again []string
	if s.resubscribe && !s.closing && gen == s.acc {
		for _, t := range s.topics {
			if !s.present[gen] || s.pending[t] {
				again = append(again, t)
			}
		}
		s.pending = map[string]bool{}
	}
	s.mu.Unlock()
	for _, t := range again {
		go s.subscribeAgain(cl, t)
	}
}

// subscribeAgain re-subscribes a topic after a reconnect (driver_adds).
func (s *session) subscribeAgain(cl mqtt.Client, topic string) {
	tok := cl.Subscribe(topic, s.qos, s.onMessage)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			s.errorf("driver: re-subscribing %s after the reconnect: paho Subscribe: %v", topic, err)
		}
	case <-s.closed:
	}
}

func (s *session) onLost(_ mqtt.Client, err error) {
	s.errorf("paho OnConnectionLost: %v", err)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.losses++
	l := s.losses
	s.upLocked(l, "OnConnectionLost") // its OnConnect has not run yet
	if s.closing || s.upGen > l {
		return // a close, or a newer connection is up already
	}
	if s.reconnect {
		s.moveLocked(kit.Recovering, "OnConnectionLost", "", "")
	} else {
		s.moveLocked(kit.ClosedFailed, "OnConnectionLost", "", "connection_lost")
	}
}

// onMessage reports a message delivered to the application. A message
// can only come on an open connection, so one that overtakes its
// connection's OnConnect reports the connection up first.
func (s *session) onMessage(_ mqtt.Client, m mqtt.Message) {
	s.mu.Lock()
	s.upLocked(s.acc, "message before OnConnect")
	s.mu.Unlock()
	s.event(event{Type: "message", Topic: m.Topic(), Seq: kit.SeqOf(m.Payload())})
}

// connectFailed reports a first connect that failed for good. The close
// carries no tried list: paho's error names only the last broker
// (close_error: last_error), and the C2 check takes a tried list as the
// library's own naming; the dial events show every broker tried.
func (s *session) connectFailed(rc byte) {
	reason := "connection_error"
	switch rc {
	case packets.ErrRefusedBadUsernameOrPassword, packets.ErrRefusedNotAuthorised:
		reason = "access_denied"
	case packets.ErrRefusedBadProtocolVersion, packets.ErrRefusedIDRejected, packets.ErrRefusedServerUnavailable:
		reason = "handshake_rejected"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == "" {
		first := ""
		if len(s.servers) > 0 {
			first = s.servers[0]
		}
		s.moveLocked(kit.Connecting, "Connect", first, "")
	}
	s.moveLocked(kit.ClosedFailed, "Connect token error", s.lastDial, reason)
}

// close closes the session deliberately: Disconnect(quiesce) (DISCONNECT,
// then paho stops its workers), then whatever connection paho still holds
// (a handshake under way) is closed; the CLOSED_BY_CLIENT event comes once
// they have ended (bounded), before the op's reply.
func (s *session) close() {
	s.mu.Lock()
	if kit.IsClosed(s.state) { // closed already (a failure, an earlier close)
		s.mu.Unlock()
		return
	}
	s.closing = true
	cl := s.cl
	s.mu.Unlock()
	if cl != nil {
		cl.Disconnect(quiesce)
	}
	deadline := time.Now().Add(closeWait)
	for {
		s.mu.Lock()
		left := make([]*trackConn, 0, len(s.conns))
		for c := range s.conns {
			left = append(left, c)
		}
		s.mu.Unlock()
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		for _, c := range left {
			c.Close()
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.Lock()
	if s.state == "" { // nothing was dialed yet (exit during a connect)
		s.moveLocked(kit.Connecting, "Connect", firstOf(s.servers), "")
	}
	s.moveLocked(kit.ClosedByClient, "Disconnect", "", "closed_by_client")
	s.mu.Unlock()
}

func firstOf(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

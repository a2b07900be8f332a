package real

import (
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/faultline/faultline/harness/history"
)

// Publish puts {"n":k} on topic at QoS 1 through the harness's own
// connection, as a client would, and waits for mosquitto's PUBACK (sent
// once the message is routed to its subscribers, each at its granted QoS).
// k is 1, 2, … per topic per broker; publish is recorded with it just
// before the PUBLISH is written, so no delivery of it precedes it. It
// returns k, or 0 when there is no running broker to publish to or the
// topic is no MQTT topic name (recorded as a harness error). A broker
// killed after the publish was recorded takes the message with it.
func (s *Server) Publish(topic string) int64 {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	fail := func(why string) int64 {
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "publish on " + s.name + ": " + why})
		return 0
	}
	inc, why := s.running()
	switch {
	case inc == nil:
		return fail(why)
	case !validTopic(topic):
		return fail(fmt.Sprintf("%q is not an MQTT topic name", topic))
	}
	if inc.mon == nil || inc.mon.isDead() {
		if inc.mon != nil {
			inc.mon.close()
			s.box.drop(inc.mon.peer)
		}
		m, err := dialMonitor(&s.peers, s.target(), s.box)
		if err != nil {
			inc.mon = nil
			return fail(err.Error())
		}
		inc.mon = m
	}
	inc.seq[topic]++
	k := inc.seq[topic]
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindPublish, Server: s.name, Topic: topic, Seq: k})
	if err := inc.mon.publish(topic, []byte(`{"n":`+strconv.FormatInt(k, 10)+`}`)); err != nil {
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "publish on " + s.name + ": seq " + strconv.FormatInt(k, 10) + ": " + err.Error()})
	}
	return k
}

// takeoverParallel bounds the takeovers in flight at once.
const takeoverParallel = 16

// CloseConnections closes every client connection of the running broker
// (reason server_close). mosquitto has no command for it; a client's
// connection is closed the way mosquitto itself closes one: another
// connection CONNECTs with the same client id (a takeover, see takeover),
// with the client's own clean session flag, so a persistent session
// survives with its subscriptions and unacknowledged messages, and a clean
// one ends as it would have anyway (mosquitto then publishes its will).
// Limits: only connections whose CONNECT mosquitto accepted can be closed
// so (one that sent none has no id to take over); an MQTT 5 client's
// session is taken over by an MQTT 3.1.1 connection, which gives it 3.1.1's
// lifetime (no expiry); a client reconnecting at that instant may take its
// id back first, and keep its connection. It returns when every takeover
// is done.
func (s *Server) CloseConnections() {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	inc, why := s.running()
	if inc == nil {
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "close on " + s.name + ": " + why})
		return
	}
	inc.mu.Lock()
	targets := inc.t.clients()
	inc.mu.Unlock()
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, takeoverParallel)
		mu   sync.Mutex
		errs []string
	)
	for _, c := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := takeover(&s.peers, s.target(), c.clientID, c.clean, c.level); err != nil {
				mu.Lock()
				errs = append(errs, c.clientID+": "+err.Error())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Strings(errs)
	for _, e := range errs { // the client may have reconnected first: evidence, not a failure
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "close on " + s.name + ": takeover of " + e})
	}
}

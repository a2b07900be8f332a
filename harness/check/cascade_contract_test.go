package check

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// C2 and C3 judged against a real library's effective contract: the
// close_error term (close_names_tried) and the failover switches it lists
// unsupported (cascade_scope).

// connReply is client c's connect reply at ms (ok, or failed with the
// error text), carrying a contract with close_error = closeErr ("": not
// declared) and the options listed unsupported.
func connReply(ms float64, c int, errText, closeErr string, unsupported ...string) history.Event {
	ct := map[string]any{"first_connect": map[string]string{"value": "cascade", "cite": "nats.go connect()"}}
	if closeErr != "" {
		ct["close_error"] = map[string]string{"value": closeErr, "cite": "nats.go connect(): ErrNoServers"}
	}
	var un []map[string]string
	for _, o := range unsupported {
		un = append(un, map[string]string{"option": o, "reason": "nats.go cannot"})
	}
	if len(un) > 0 {
		ct["unsupported"] = un
	}
	b, _ := json.Marshal(ct)
	kv := []string{fmt.Sprintf("client=%d", c), "op=connect", "id=1", "contract=" + string(b)}
	if errText == "" {
		kv = append(kv, "ok=true")
	} else {
		kv = append(kv, "ok=false", "reason="+errText)
	}
	return ev(ms, history.KindReply, kv...)
}

const noServers = "nats.Connect: nats: no servers available for connection"

func TestCloseNamesTriedContract(t *testing.T) {
	// The first connect: s1 resets, s2 resets, s3's link is down; the close
	// names tried (comma-separated) and the reply carries the contract.
	cascadeAllFail := func(tried, closeErr string, extra ...history.Event) history.History {
		s := newF()
		s.fault(0, "s1", "reset").fault(0, "s2", "reset").fault(0, "s3", "down")
		s.op(0, 50)
		s.fail(51, "s1").fail(53, "s2")
		s.closed(0, 55, cg, "s3", tried)
		s.add(connReply(55.5, 0, noServers, closeErr))
		return s.add(extra...).hist()
	}
	casc := fscen(3, cascading)
	runCases(t, []tcase{
		{name: "contract names_tried, every server named: OK", cfg: &CloseNamesTried{}, sc: casc, h: cascadeAllFail("s1,s2,s3", "names_tried"),
			verdict: OK, detail: []string{"1 close(s) after every server failed named each server tried", "judged by its contract's close_error: names_tried"}},
		{name: "contract last_error, names none: INFORMATIONAL", cfg: &CloseNamesTried{}, sc: casc, h: cascadeAllFail("", "last_error"),
			verdict: Informational, detail: []string{
				`with the error "nats.Connect: nats: no servers available for connection", naming no server, as its contract says (close_error: last_error (nats.go connect(): ErrNoServers))`,
				"seen tried: s1 (server accept s1#1 at 51.0ms), s2 (server accept s2#1 at 53.0ms)",
				"link down (a refused dial no server sees): s3"}},
		{name: "contract generic, names none: INFORMATIONAL", cfg: &CloseNamesTried{}, sc: casc, h: cascadeAllFail("", "generic"),
			verdict: Informational, detail: []string{"close_error: generic"}},
		{name: "contract last_error, but the close names them: judged as asked", cfg: &CloseNamesTried{}, sc: casc, h: cascadeAllFail("s1,s2,s3", "last_error"),
			verdict: OK, detail: []string{"named each server tried"}},
		{name: "contract names_tried, the close names fewer than tried: FAILED", cfg: &CloseNamesTried{}, sc: casc, h: cascadeAllFail("s1,s3", "names_tried"),
			verdict: Failed, detail: []string{"naming [s1,s3], not s2", "s2 saw an attempt (server accept) but the close does not name it", "judged by its contract's close_error: names_tried"}},
		{name: "contract names_tried, names none: FAILED with the error", cfg: &CloseNamesTried{}, sc: casc, h: cascadeAllFail("", "names_tried"),
			verdict: Failed, detail: []string{"naming no server tried with the error \"nats.Connect: nats: no servers available for connection\""}},
		{name: "no close_error declared, names none: FAILED", cfg: &CloseNamesTried{}, sc: casc, h: cascadeAllFail("", ""),
			verdict: Failed, detail: []string{"naming no server tried"}},
		{name: "contract last_error, but it does not stop: FAILED", cfg: &CloseNamesTried{}, sc: casc,
			h:       cascadeAllFail("", "last_error", ev(400, "accept", "server=s1", "conn=s1#9")),
			verdict: Failed, detail: []string{"went on after its close at 55.0ms: 1 server accept(s) (s1#9 at 400.0ms)"}},
		{name: "failover exhausted, contract last_error from the connect: INFORMATIONAL", cfg: &CloseNamesTried{}, sc: fscen(3, auto),
			h: allFailing("").add(connReply(7, 0, "", "last_error")).hist(), verdict: Informational,
			detail: []string{"client 0 failover 0 (from s1 at 602.0ms) closed CLOSED_FAILED (connection_error) at 908.0ms, naming no server", "seen tried: s2 (server accept s2#1 at 603.0ms), s3 (server accept s3#1 at 605.0ms), s1"}},
	})
}

func TestCascadeScopeContract(t *testing.T) {
	// failover on, cascading off, client 0 cascading anyway past s1 to s2
	// (its library cannot switch cascading off); client 1 fails over.
	cascadesAnyway := func(un ...string) history.History {
		s := newF()
		s.fault(0, "s1", "reset")
		s.op(0, 50)
		s.fail(51, "s1")
		s.land(0, 52, "s2", cg)
		s.add(connReply(55, 0, "", "", un...))
		s.add(cst(300, 0, cA, cBC, "s2", "S1", "reason=closed_by_client"))
		s.heal(400, "s1", "reset")
		a := s.connect(1, 600, "s1")
		s.add(connReply(601, 1, "", "", un...))
		s.fault(1000, "s1", "cut")
		s.leave(1, 1002, "s1", a)
		s.land(1, 1003, "s2", cg)
		return s.hist()
	}
	// cascading on, failover off: past s1 to s2; s2 lost, and the client
	// fails over to s3 anyway (its library cannot switch failover off).
	failsOverAnyway := func(un ...string) history.History {
		s := cascadeReset()
		s.add(connReply(56, 0, "", "", un...))
		s.fault(700, "s2", "cut")
		s.leave(0, 702, "s2", "S1")
		s.land(0, 703, "s3", cg)
		return s.hist()
	}
	runCases(t, []tcase{
		{name: "cascading off unsupported, it cascades: UNIMPLEMENTED", cfg: &CascadeScope{}, sc: fscen(2, auto, clients(2)), h: cascadesAnyway(optCascading),
			verdict: Unimplemented, detail: []string{
				"cascading off cannot be asked of the library (unsupported failover.cascading: nats.go cannot): after s1 failed (reset) client 0 cascade (connect at 50.0ms) went CONNECTED_ACTIVE on s2",
				"it went on to s2 (server accept s2#1 at 52.0ms), a session on s2", "judged: failed over from s1 to s2"}},
		{name: "cascading off, a contract that does not list it: FAILED", cfg: &CascadeScope{}, sc: fscen(2, auto, clients(2)), h: cascadesAnyway(optAuto),
			verdict: Failed, detail: []string{"cascading off, but after s1 failed (reset on s1 at 0.0ms) client 0 cascade (connect at 50.0ms) tried s2"}},
		{name: "failover off unsupported, it fails over: UNIMPLEMENTED", cfg: &CascadeScope{}, sc: fscen(3, cascading), h: failsOverAnyway(optAuto),
			verdict: Unimplemented, detail: []string{
				"autofailover off cannot be asked of the library (unsupported failover.auto: nats.go cannot): after losing s2 (cut) client 0 failover 0 (from s2 at 702.0ms) went CONNECTED_ACTIVE on s3",
				"judged: cascaded past s1 (reset) to s2"}},
		{name: "failover off unsupported, but cascading on does not cascade: FAILED", cfg: &CascadeScope{}, sc: fscen(3, cascading), h: func() history.History {
			s := newF()
			s.fault(0, "s1", "reset")
			s.op(0, 50)
			s.fail(51, "s1")
			s.closed(0, 53, cg, "s1", "s1")
			s.add(connReply(54, 0, "", "", optAuto))
			s.heal(400, "s1", "reset")
			s.add(ev(600, history.KindOp, "client=0", "op=connect", "id=2"))
			a := s.land(0, 600.2, "s1", cg)
			s.fault(1000, "s1", "cut")
			s.leave(0, 1002, "s1", a)
			s.land(0, 1003, "s2", cg)
			return s.hist()
		}(), verdict: Failed, detail: []string{"cascading on, but after s1 failed"}},
		{name: "failover off, a contract that does not list it: FAILED", cfg: &CascadeScope{}, sc: fscen(3, cascading), h: failsOverAnyway(),
			verdict: Failed, detail: []string{"autofailover off, but client 0 failed over after losing s2"}},
	})
}

// C1 with grpc-go pick_first's happy eyeballs: the next address is started
// overlap_ms after the previous one began while that one is still
// connecting (balancer/pickfirst/pickfirst.go scheduleNextConnectionLocked).
func TestCascadeOrderOverlap(t *testing.T) {
	sc := fscen(3, cascading)
	sc.Client.ConnectTimeout = 2 * time.Second // grpc's min_connect_timeout: far above the overlap
	he := ctReply(1, map[string]string{"first_connect": "cascade"}, map[string]any{"overlap_ms": 250})
	plain := ctReply(1, map[string]string{"first_connect": "cascade"}, nil)
	// overlapped: s1 blackholed from the start; its attempt (linked at
	// 50.5ms) hangs; s2's begins gap ms later and lands.
	overlapped := func(reply history.Event, gap float64) history.History {
		s := newF()
		s.add(reply)
		s.fault(0, "s1", "blackhole")
		s.op(0, 50)
		s.linked(50.5, "s1").held(51, "s1")
		s.linked(50.5+gap, "s2")
		s.land(0, 51+gap, "s2", cg)
		return s.hist()
	}
	// sequential: s1 resets (its close recorded 1ms after its accept), s2 at once.
	sequential := func(reply history.Event) history.History {
		s := newF()
		s.add(reply)
		s.fault(0, "s1", "reset")
		s.op(0, 50)
		s.fail(51, "s1")
		s.land(0, 53, "s2", cg)
		return s.hist()
	}
	runCases(t, []tcase{
		{name: "sequential walk, overlap_ms declared: OK", cfg: &CascadeOrder{}, sc: sc, h: sequential(he), verdict: OK,
			detail: []string{"1 cascade(s) followed list order s1 → s2 → s3"}},
		{name: "sequential walk, no overlap_ms: OK", cfg: &CascadeOrder{}, sc: sc, h: sequential(plain), verdict: OK},
		{name: "overlapped 250ms after, overlap_ms 250: OK", cfg: &CascadeOrder{}, sc: sc, h: overlapped(he, 250), verdict: OK,
			detail: []string{"attempt 1 on s2 (link accept of s2#1 at 300.5ms) began 250.0ms after attempt 0 on s1 (link accept of s1#1 at 50.5ms), which had not finished (no close of it recorded by then, its connect timeout 2000.0ms not run out): an overlap its contract allows (overlap_ms 250"}},
		{name: "overlapped within the slack of overlap_ms: OK", cfg: &CascadeOrder{}, sc: sc, h: overlapped(he, 242), verdict: OK},
		{name: "overlapped without overlap_ms: FAILED", cfg: &CascadeOrder{}, sc: sc, h: overlapped(plain, 250), verdict: Failed,
			detail: []string{"which had not finished", "two attempts at once, and the client's effective contract declares no overlap_ms (first_connect: cascade (grpc-go first_connect))"}},
		{name: "overlapped without a contract: FAILED", cfg: &CascadeOrder{}, sc: sc, h: overlapped(ev(1, history.KindStep, "step=0"), 250), verdict: Failed,
			detail: []string{"two attempts at once", "first_connect: not declared"}},
		{name: "overlapped sooner than overlap_ms: FAILED", cfg: &CascadeOrder{}, sc: sc, h: overlapped(he, 100), verdict: Failed,
			detail: []string{"began 100.0ms after attempt 0 on s1", "sooner than the contract's overlap_ms 250 allows (≥ 240.0ms with the slack)"}},
		// The first attempt (s1, slowed) answers after the second (s2,
		// blackholed) began: it lands on s1, s2 abandoned.
		{name: "landing on the earlier attempt, the overlapping one abandoned: OK", cfg: &CascadeOrder{}, sc: sc, h: func() history.History {
			s := newF()
			s.add(he)
			s.fault(0, "s1", "slow").fault(0, "s2", "blackhole")
			s.op(0, 50)
			s.linked(50.5, "s1").linked(300.5, "s2").held(301, "s2")
			s.add(ev(50.7, "accept", "server=s1", "conn=s1#1"),
				ev(398, "handshake", "server=s1", "conn=s1#1", "ok=true", "session=S1"),
				ev(398.5, "session.create", "server=s1", "conn=s1#1", "session=S1", "retention_ms=0"),
				cst(400, 0, cg, cA, "s1", "S1"))
			return s.hist()
		}(), verdict: OK},
	})
}

// A reset attempt whose close the server did not record ended at once: the
// next attempt right after it is no overlap.
func TestCascadeOrderNoCloseRecorded(t *testing.T) {
	s := newF()
	s.fault(0, "s1", "reset")
	s.op(0, 50)
	s.held(51, "s1") // accepted, its close not recorded
	s.land(0, 53, "s2", cg)
	runCases(t, []tcase{{name: "reset, no close recorded: sequential, OK", cfg: &CascadeOrder{}, sc: fscen(3, cascading), h: s.hist(), verdict: OK}})
}

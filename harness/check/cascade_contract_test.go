package check

import (
	"encoding/json"
	"fmt"
	"testing"

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

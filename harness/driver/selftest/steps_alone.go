package selftest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// knownFeatures are the features a hello may declare
// (docs/driver-protocol.md, the hello).
var knownFeatures = []string{driver.FeatReconnect, driver.FeatFailover, driver.FeatLoadBalancing, driver.FeatCascading,
	driver.FeatMigration, driver.FeatRouting, "discovery"}

// The steps that need no server: the hello and the ops a driver answers
// on its own.

func (t *tester) stepHello(s *Step) {
	c := t.c
	ok := c.wait(t.cfg.Timeout, func() bool { return c.hello != nil || c.helloErr != "" })
	c.mu.Lock()
	h, herr, hr := c.hello, c.helloErr, c.helloRec
	c.mu.Unlock()
	if !ok || herr != "" {
		switch {
		case herr != "":
			s.fail("%s", herr)
		case t.p.waitExit(100 * time.Millisecond):
			s.fail("exited before its hello (%s); expected the hello as its first line, written at once", t.p.exitText())
		case c.isEnded():
			s.fail("closed its stdout before its hello; expected the hello as its first line, written at once")
		default:
			s.fail("no hello within %s of starting; expected the hello as its first line, written at once (the harness waits --op-timeout, %s by default)", ms(t.cfg.Timeout), ms(DefaultTimeout))
		}
		s.Summary = "no well-formed hello"
		t.dead = "no well-formed hello"
		return
	}
	t.rep.Hello = h
	t.multi = h.Sessions > 1
	for _, f := range h.Features {
		t.feat[f] = true
		if !slices.Contains(knownFeatures, f) {
			s.note("feature %q is not one faultline knows (%s): it declares nothing", f, strings.Join(knownFeatures, ", "))
		}
	}
	sessions := "one session per process"
	if t.multi {
		sessions = fmt.Sprintf("sessions %d (every op below names its client)", h.Sessions)
	}
	protocol := "faultline's own session protocol"
	if h.Protocol != "" {
		protocol = "protocol " + h.Protocol
	}
	features := "none"
	if len(h.Features) > 0 {
		features = strings.Join(h.Features, ", ")
	}
	s.Summary = fmt.Sprintf("%s %s after %s: features %s; %s; %s", h.SDK, h.Version, ms(hr.at.Sub(t.p.started)), features, sessions, protocol)
	if h.Version == "" {
		s.note("empty \"version\": reports show it beside the sdk's name")
	}
}

func (t *tester) stepContract(s *Step) {
	h := t.rep.Hello
	if len(h.Contract) == 0 {
		s.Summary = "none declared: the checks judge the driver by the scenario's model (as faultline's own engines)"
		if h.Protocol != "" {
			s.note("a real library's driver declares the library's contract, each term cited, so that it is judged by its own documented behaviour")
		}
		return
	}
	f := judgeContract(h.Contract, false)
	s.Summary = "hello's contract: " + f.summary
	for _, p := range f.problems {
		s.fail("line %d (the hello): %s", t.c.helloRec.n, p)
	}
	for _, n := range f.notes {
		t.noteOnce(s, n)
	}
}

func (t *tester) stepUnknownOp(s *Step) {
	op := driver.Op{Op: "selftest-no-such-op"}
	r, ok := t.do(s, 0, op)
	if !ok {
		return
	}
	refused(s, "an unknown op", r, `an op the driver does not know is refused: {"re":…,"ok":false,"error":"unknown op …"}`)
	s.Summary = fmt.Sprintf("%q refused: %q", op.Op, r.r.Error)
}

func (t *tester) stepProbe(s *Step) {
	began := time.Now()
	r, ok := t.do(s, noClient, driver.Op{Op: driver.OpProbe})
	if !ok {
		return
	}
	s.Summary = fmt.Sprintf("answered in %s (ok %v): the harness probes every 50 ms while several clients run; any reply serves", ms(time.Since(began)), r.r.OK)
}

// malformedLine is a line that is not an op: the harness never sends one,
// but a driver must survive it and say so, not answer it as an op.
const malformedLine = `{"id": 7, "op": "connect", this is not JSON`

func (t *tester) stepMalformed(s *Step) {
	c := t.c
	c.setLenient(true)
	defer c.setLenient(false)
	mark := c.mark()
	_, before := t.p.stderrTail()
	if err := t.p.send([]byte(malformedLine), t.cfg.Timeout); err != nil {
		s.fail("could not write the line (%v)", err)
		t.dead = "its stdin is closed"
		return
	}
	// The probe after it shows the driver read past the line and lives.
	if _, ok := t.do(s, noClient, driver.Op{Op: driver.OpProbe}); !ok {
		return
	}
	said := ""
	for _, e := range c.eventsSince(mark) {
		if e.e.Type == driver.EvError {
			said = fmt.Sprintf("an error event (line %d: %q)", e.n, e.e.Text)
			break
		}
	}
	if said == "" {
		// stderr is another pipe: give its write a moment to arrive.
		deadline := time.Now().Add(min(t.cfg.Timeout, time.Second))
		for said == "" && time.Now().Before(deadline) {
			if tail, n := t.p.stderrTail(); n > before {
				said = "its stderr (" + lastLine(tail) + ")"
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if said == "" {
		s.fail("the line %q got neither an error event nor a word on stderr; expected the driver to say what it could not read (and go on)", malformedLine)
		s.Summary = "survived a line that is not JSON"
		return
	}
	s.Summary = "survived a line that is not JSON, and said so on " + said
}

// lastLine is the last non-empty line of s, truncated.
func lastLine(s string) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	l := ls[len(ls)-1]
	if len(l) > 120 {
		l = l[:120] + "…"
	}
	return fmt.Sprintf("%q", l)
}

func (t *tester) stepBeforeConnect(s *Step) {
	var said []string
	for _, op := range []driver.Op{
		{Op: driver.OpSubscribe, Topic: "selftest-early"},
		{Op: driver.OpSend, Payload: json.RawMessage(`"selftest-early"`)},
	} {
		r, ok := t.do(s, 0, op)
		if !ok {
			return
		}
		refused(s, op.Op+" before any connect", r, "an op that cannot be served now is refused; there is no session yet")
		said = append(said, fmt.Sprintf("%s refused (%q)", op.Op, r.r.Error))
	}
	s.Summary = strings.Join(said, "; ")
}

// stepUndeclared: ops of features the hello does not declare are refused.
// The discovery ops may be served by a client library (a resolver) or
// refused; either reply serves.
func (t *tester) stepUndeclared(s *Step) {
	var said []string
	if !t.feat[driver.FeatMigration] {
		r, ok := t.do(s, 0, driver.Op{Op: driver.OpRequest, Rows: 1})
		if !ok {
			return
		}
		refused(s, "request (no migration feature)", r, "a driver that does not declare migration answers request and cancel with ok false")
		r2, ok := t.do(s, 0, driver.Op{Op: driver.OpCancel, Request: r.r.Re})
		if !ok {
			return
		}
		refused(s, "cancel (no migration feature)", r2, "a driver that does not declare migration answers request and cancel with ok false")
		said = append(said, "request and cancel refused (no migration)")
	}
	if !t.feat[driver.FeatRouting] {
		r, ok := t.do(s, 0, driver.Op{Op: driver.OpEdge, Edge: "selftest-edge"})
		if !ok {
			return
		}
		refused(s, "edge (no routing feature)", r, "edge is for router drivers; one that cannot serve it refuses it with why")
		said = append(said, "edge refused (no routing)")
	}
	for _, name := range []string{driver.OpDiscoveryAdd, driver.OpDiscoveryRemove} {
		r, ok := t.do(s, 0, driver.Op{Op: name, Servers: []string{"ws://127.0.0.1:9/"}})
		if !ok {
			return
		}
		if !r.r.OK && r.r.Error == "" {
			s.fail("%s: refused %s without an error; expected \"error\" saying why", r.where(), name)
		}
		said = append(said, fmt.Sprintf("%s answered (ok %v)", name, r.r.OK))
	}
	s.Summary = strings.Join(said, "; ")
}

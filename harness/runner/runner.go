// Package runner runs one scenario: it brings the topology up (fake servers
// behind Toxiproxy links), drives the timeline against the client engines
// through the Driver interface, records one history from every side, tears
// everything down, and hands the history to the checkers. Every wait is
// bounded: a stuck driver or server becomes a FAILED result with evidence.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
	"github.com/faultline/faultline/proxy"
)

// Config is how scenarios are run.
type Config struct {
	Driver    driver.Factory                                      // the engine under test (required)
	Toxiproxy func(rec history.Recorder) (proxy.Toxiproxy, error) // default: embedded
	Topology  topology.Topology                                   // where servers and Toxiproxy run; default: embedded (with Toxiproxy above)
	OpTimeout time.Duration                                       // bound on one op's reply (default 10s)
	Teardown  time.Duration                                       // bound on teardown (default 5s)
	// StartParallelism is how many drivers start at once (default: two per
	// CPU, at least 4, at most 32).
	StartParallelism int
	// HelloTimeout bounds each driver's start and hello (default OpTimeout).
	HelloTimeout time.Duration
}

// CheckResult is one expect entry's verdict.
type CheckResult struct {
	Scenario    string `json:"scenario"`
	File        string `json:"file"`
	Requirement string `json:"requirement"`
	Check       string `json:"check"`
	check.Result
}

// Result is one scenario run.
type Result struct {
	Scenario *scenario.Scenario `json:"-"`
	Hello    driver.Hello       `json:"hello"`
	History  history.History    `json:"history"`
	Checks   []CheckResult      `json:"checks"`
	Problems []string           `json:"problems,omitempty"` // harness/driver failures (evidence)
	Wall     time.Duration      `json:"wall"`
	// DriverStderr is what the driver processes wrote on stderr, when their
	// drivers keep it (stderr.go).
	DriverStderr []DriverStderr `json:"driver_stderr,omitempty"`
	// NotSpoken is why the scenario does not apply to this SDK at all: it
	// speaks another protocol than the scenario's servers (protocol.go).
	// Its results are UNIMPLEMENTED, and say nothing of the SDK's features.
	NotSpoken string `json:"not_spoken,omitempty"`
}

// Failed reports whether any check FAILED or could not judge (UNKNOWN):
// either fails the run.
func (r *Result) Failed() bool {
	for _, c := range r.Checks {
		if check.FailsRun(c.Verdict) {
			return true
		}
	}
	return false
}

// featureFor maps a requirement to the driver feature it needs.
func featureFor(req string) string {
	switch {
	case strings.HasPrefix(req, "R"):
		return driver.FeatReconnect
	case req == "F3":
		return driver.FeatLoadBalancing
	case strings.HasPrefix(req, "F"):
		return driver.FeatFailover
	case strings.HasPrefix(req, "C"):
		return driver.FeatCascading
	case strings.HasPrefix(req, "M"):
		return driver.FeatMigration
	case strings.HasPrefix(req, "T"):
		return driver.FeatRouting
	}
	return ""
}

// Run runs one scenario to the end and judges it. It never hangs: ctx bounds
// the whole run, and every op and teardown has its own deadline.
func Run(ctx context.Context, sc *scenario.Scenario, cfg Config) *Result {
	if why := topology.Refuses(cfg.Topology, sc); why != "" {
		return unsupported(sc, why) // topology_steps.go: nothing started
	}
	if cfg.OpTimeout == 0 {
		cfg.OpTimeout = 10 * time.Second
	}
	if cfg.Teardown == 0 {
		cfg.Teardown = 5 * time.Second
	}
	if cfg.HelloTimeout == 0 {
		cfg.HelloTimeout = cfg.OpTimeout
	}
	if cfg.Toxiproxy == nil {
		cfg.Toxiproxy = func(rec history.Recorder) (proxy.Toxiproxy, error) { return proxy.NewEmbedded(rec) }
	}
	started := time.Now()
	log := history.NewLog(history.NewClock())
	res := &Result{Scenario: sc}

	t := &run{sc: sc, cfg: cfg, log: log, res: res}
	err := t.up(ctx)
	if why := speaks(t.hello, sc); err == nil && t.helloOK && why != "" { // protocol.go
		t.down()
		res.Hello, res.Checks, res.Wall, res.NotSpoken = t.hello, notSpoken(sc, why), time.Since(started), why
		return res
	}
	if why := t.descriptorsShort(); err == nil && why != "" { // fds.go: more clients than this process may hold
		t.down()
		res.Hello, res.Checks, res.Wall = t.hello, unsupported(sc, why).Checks, time.Since(started)
		return res
	}
	if err == nil {
		log.StartTimeline() // offsets count from here, not from before the topology came up
		// The machine's stalls are evidence for the timing checks (stall.go).
		stopProbe := startStallProbe(ctx, log)
		stopLag := t.startLagProbe(ctx) // lagprobe.go: the driver processes' delay, for late claims
		t.drive(ctx)
		stopLag()
		stopProbe()
		t.recordLag() // topology_steps.go
	} else {
		t.problem("topology: %v", err)
	}
	res.History = log.Events() // the timeline as judged: teardown is not part of it
	t.down()
	res.Hello = t.hello
	res.Checks = judge(sc, res.History, t.hello, t.helloOK, res.Problems)
	res.Wall = time.Since(started)
	return res
}

// run is the state of one scenario run.
type run struct {
	sc  *scenario.Scenario
	cfg Config
	log *history.Log
	res *Result

	servers map[string]fakeserver.Server
	tp      proxy.Toxiproxy
	dep     *topology.Deployment // servers and tp come from it; Down stops them
	links   map[string]*proxy.Link
	urls    []string          // client.servers resolved to link URLs
	byURL   map[string]string // link URL → server name
	// sessionOf maps a client's session name onto its server's, for the
	// servers whose kind says how (fakeserver.Kind.ClientSession).
	sessionOf map[string]func(server, claimed string) string
	clients   []*clientRunner
	per       int // clients per driver process when packed (start.go); 1: a driver each
	hello     driver.Hello
	helloOK   bool

	mu       sync.Mutex
	problems []string
	wg       sync.WaitGroup // timeline goroutines (publishers, heals)
}

func (t *run) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.mu.Lock()
	t.res.Problems = append(t.res.Problems, msg)
	t.mu.Unlock()
	t.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Reason: msg})
}

func (t *run) up(ctx context.Context) error {
	t.servers = map[string]fakeserver.Server{}
	t.links = map[string]*proxy.Link{}
	t.byURL = map[string]string{}
	topo := t.cfg.Topology
	if topo == nil {
		topo = topology.Embedded{Toxiproxy: t.cfg.Toxiproxy}
	}
	dep, err := topo.Up(ctx, t.sc, t.log)
	if err != nil {
		return err
	}
	t.dep, t.tp = dep, dep.Toxiproxy
	for name, n := range dep.Servers {
		t.servers[name] = n.Server
	}
	tp := t.tp
	for _, s := range t.sc.Servers {
		lctx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
		l, err := tp.Link(lctx, s.Name, dep.Servers[s.Name].Upstream)
		cancel()
		if err != nil {
			return fmt.Errorf("link %s: %w", s.Name, err)
		}
		t.links[s.Name] = l
		t.byURL[fakeserver.URL(s.Kind, l.Addr())] = s.Name
		if k, ok := fakeserver.LookupKind(s.Kind); ok && k.ClientSession != nil {
			if t.sessionOf == nil {
				t.sessionOf = map[string]func(string, string) string{}
			}
			t.sessionOf[s.Name] = k.ClientSession
		}
	}
	for _, name := range t.sc.Client.Servers {
		u, _ := t.urlOf(name)
		t.urls = append(t.urls, u)
	}
	t.setPeers() // migration.go
	return t.startDrivers(ctx)
}

// drive fires the timeline and waits for its end.
func (t *run) drive(ctx context.Context) {
	clock := t.log.Clock()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, c := range t.clients {
		t.wg.Add(1)
		go func(c *clientRunner) { defer t.wg.Done(); c.loop(cctx) }(c)
	}
	steps := append([]scenario.Step(nil), t.sc.Steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	end := clock.At(t.sc.End())
	for _, st := range steps {
		if !sleepUntil(ctx, clock.At(st.At)) {
			t.problem("run cancelled before step at %v: %v", st.At, ctx.Err())
			break
		}
		t.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindStep, Attrs: stepAttrs(st)})
		t.fire(cctx, st, end)
	}
	if !sleepUntil(ctx, end) {
		t.problem("run cancelled before its end: %v", ctx.Err())
	}
	t.log.Record(history.Event{Source: history.SrcHarness, Kind: history.KindStep, Attrs: map[string]string{"step": "end"}})
	cancel()
	for _, c := range t.clients {
		close(c.queue)
	}
	waitBounded(&t.wg, t.cfg.Teardown+t.cfg.OpTimeout, func() { t.problem("timeline goroutines did not finish") })
}

func (t *run) fire(ctx context.Context, st scenario.Step, end time.Time) {
	switch {
	case st.Client != nil:
		for _, c := range t.clients {
			if st.Client.Only == nil || contains(st.Client.Only, c.idx) {
				c.queue <- st
			}
		}
	case st.Discovery != nil: // routing.go: the router's discovery, through its driver
		for _, c := range t.clients {
			c.queue <- st
		}
	case st.Link != "":
		t.fault(ctx, st, end)
	case st.Server != "":
		t.serverAction(ctx, st, end)
	}
}

func (t *run) fault(ctx context.Context, st scenario.Step, end time.Time) {
	l := t.links[st.Link]
	fctx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
	defer cancel()
	if st.Fault == "heal" {
		if err := l.HealAll(fctx); err != nil {
			t.problem("heal %s: %v", st.Link, err)
		}
		return
	}
	dir := proxy.Direction(st.Direction)
	id, err := l.Apply(fctx, st.Fault, st.FaultArgs, dir)
	if err != nil {
		t.problem("fault %s on %s: %v", st.Fault, st.Link, err)
		return
	}
	if st.For <= 0 {
		return
	}
	healAt := t.log.Clock().At(st.At + st.For)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if !sleepUntil(ctx, healAt) {
			return // the run ended first; teardown heals
		}
		hctx, cancel := context.WithTimeout(context.Background(), t.cfg.OpTimeout)
		defer cancel()
		// A heal step may have ended the fault before its `for` ran out:
		// then there is nothing left to heal, and nothing went wrong.
		if err := l.Heal(hctx, id); err != nil && !errors.Is(err, proxy.ErrUnknownFault) {
			t.problem("heal %s on %s: %v", st.Fault, st.Link, err)
		}
	}()
}

func (t *run) serverAction(ctx context.Context, st scenario.Step, end time.Time) {
	srv := t.servers[st.Server]
	switch {
	case st.Publish != nil:
		p, ok := srv.(fakeserver.Publisher)
		if !ok {
			t.problem("server %s cannot publish", st.Server)
			return
		}
		pub := *st.Publish
		start := t.log.Clock().At(st.At)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			for i := 0; i < pub.Count; i++ {
				if !sleepUntil(ctx, start.Add(time.Duration(i)*pub.Every)) {
					return
				}
				p.Publish(pub.Topic, []byte(fmt.Sprintf(`{"n":%d}`, i+1)))
			}
		}()
	case st.Close:
		c, ok := srv.(fakeserver.SessionCloser)
		if !ok {
			t.problem("server %s cannot close sessions", st.Server)
			return
		}
		c.CloseSessions()
	case st.Kill || st.Restart:
		t.processFault(ctx, st, srv) // topology_steps.go
	case st.Migrate != nil:
		t.migrateAction(st) // migration.go
	case st.Action != "":
		t.kindAction(ctx, st, srv)
	}
}

// kindAction runs one of the server kind's own actions (fakeserver.Kind).
func (t *run) kindAction(ctx context.Context, st scenario.Step, srv fakeserver.Server) {
	s, _ := t.sc.Server(st.Server)
	actx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
	defer cancel()
	var names []string
	for _, s := range t.sc.Servers {
		names = append(names, s.Name)
	}
	if err := fakeserver.Do(actx, s.Kind, st.Action, srv, st.ActionArgs, fakeserver.Env{URL: t.urlOf, Names: names}); err != nil {
		t.problem("server %s %s: %v", st.Server, st.Action, err)
	}
}

// urlOf is the URL a client dials for a scenario server: its link's
// address, with the scheme of the server's kind.
func (t *run) urlOf(name string) (string, bool) {
	s, ok := t.sc.Server(name)
	l := t.links[name]
	if !ok || l == nil {
		return "", false
	}
	return fakeserver.URL(s.Kind, l.Addr()), true
}

func (t *run) down() {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.Teardown)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range t.clients {
		wg.Add(1)
		go func(c *clientRunner) {
			defer wg.Done()
			if err := c.drv.Close(ctx); err != nil {
				t.problem("driver %d close: %v", c.idx, err)
			}
		}(c)
	}
	waitBounded(&wg, t.cfg.Teardown+time.Second, func() { t.problem("drivers did not close") })
	t.res.DriverStderr = t.keptStderr() // stderr.go: complete now the drivers are closed
	for _, l := range t.links {
		_ = l.HealAll(ctx)
	}
	if t.dep != nil {
		if err := t.dep.Down(ctx); err != nil {
			t.problem("teardown: %v", err)
		}
	}
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func waitBounded(wg *sync.WaitGroup, d time.Duration, onTimeout func()) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		onTimeout()
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// stepAttrs are a fired step's record: its text, and the server it acts on
// when it is a server's step (checks read the name, never the text).
func stepAttrs(st scenario.Step) map[string]string {
	a := map[string]string{"step": describe(st)}
	if st.Server != "" && st.Client == nil && st.Link == "" {
		a["server"] = st.Server
	}
	return a
}

// describe is a one-line text of a step for the history and reports.
func describe(st scenario.Step) string {
	switch {
	case st.Client != nil:
		s := "client " + st.Client.Op
		if st.Client.Topic != "" {
			s += " " + st.Client.Topic
		}
		if st.Client.Count > 1 {
			s += fmt.Sprintf(" x%d", st.Client.Count)
		}
		return s
	case st.Link != "":
		s := "link " + st.Link + " " + st.Fault
		if st.For > 0 {
			s += " for " + st.For.String()
		}
		return s
	case st.Publish != nil:
		return fmt.Sprintf("server %s publish %s x%d", st.Server, st.Publish.Topic, st.Publish.Count)
	case st.Close:
		return "server " + st.Server + " close"
	case st.Kill:
		return "server " + st.Server + " kill"
	case st.Restart:
		return "server " + st.Server + " restart"
	case st.Discovery != nil:
		return describeRouting(st)
	case st.Migrate != nil:
		return describeMigrate(st)
	case st.Action != "":
		return "server " + st.Server + " " + st.Action
	}
	return "?"
}

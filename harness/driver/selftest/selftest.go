package selftest

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Defaults: the harness's own bounds.
const (
	// DefaultTimeout bounds the hello and each reply (faultline run's
	// --op-timeout default).
	DefaultTimeout = 10 * time.Second
	// DefaultExitWait bounds a driver's exit after an exit op or the end
	// of its stdin (the harness then kills its process group).
	DefaultExitWait = 5 * time.Second
)

// Config is what to test and how long to wait.
type Config struct {
	// Argv is the driver's command, run without a shell.
	Argv []string
	// Timeout bounds the hello and each reply, and each wait for an event
	// an op should cause (default DefaultTimeout).
	Timeout time.Duration
	// ExitWait bounds the exit after an exit op or EOF (default DefaultExitWait).
	ExitWait time.Duration
	// Dir is the driver's working directory ("": this process's).
	Dir string
}

// StartError is a driver that could not be started at all: bad input,
// not a failed test.
type StartError struct{ Err error }

func (e *StartError) Error() string { return e.Err.Error() }

// tester runs the steps against one driver process (and a second one for
// the end of stdin).
type tester struct {
	cfg  Config
	rep  *Report
	log  *history.Log
	p    *proc
	c    *conv
	srv  *fake
	why  string // why the server steps cannot run ("": they can)
	dead string // why the driver can no longer be talked to ("": it can)
	ids  map[int]int64

	multi bool
	feat  map[string]bool
	noted map[string]bool // notes given already (each connect's contract repeats the hello's)
	sess  map[int]string  // each client's open session (as it named it), "" when none
	// opened: the first connect opened a session.
	opened bool
}

// Run starts the driver and runs every step. The error is a *StartError
// when the driver could not be started; every other problem is in the
// report.
func Run(cfg Config) (*Report, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ExitWait <= 0 {
		cfg.ExitWait = DefaultExitWait
	}
	t := &tester{cfg: cfg, rep: &Report{Command: argvText(cfg.Argv)}, log: history.NewLog(history.NewClock()),
		ids: map[int]int64{}, feat: map[string]bool{}, sess: map[int]string{}, noted: map[string]bool{}}
	p, err := startProc(cfg.Argv, cfg.Dir, nil)
	if err != nil {
		return nil, &StartError{Err: err}
	}
	t.p, t.c = p, newConv(p, cfg.Timeout, t.log)
	defer func() {
		p.kill()
		if t.srv != nil {
			t.srv.close()
		}
	}()
	for _, s := range []struct {
		name string
		run  func(*Step)
	}{
		{"hello", t.stepHello},
		{"contract", t.stepContract},
		{"unknown-op", t.stepUnknownOp},
		{"probe", t.stepProbe},
		{"malformed-line", t.stepMalformed},
		{"before-connect", t.stepBeforeConnect},
		{"undeclared-ops", t.stepUndeclared},
		{"server", t.stepServer},
		{"connect", t.stepConnect},
		{"subscribe", t.stepSubscribe},
		{"messages", t.stepMessages},
		{"send", t.stepSend},
		{"request", t.stepRequest},
		{"close", t.stepClose},
		{"connect-again", t.stepConnectAgain},
		{"sessions", t.stepSessions},
		{"exit", t.stepExit},
		{"lifecycle", t.stepLifecycle},
		{"stdin-eof", t.stepEOF},
	} {
		t.rep.Steps = append(t.rep.Steps, t.step(s.name, s.run))
	}
	if t.rep.Failed() {
		t.rep.Stderr, _ = p.stderrTail()
	}
	return t.rep, nil
}

// step runs one step, unless the driver cannot be talked to any more, and
// gives it the problems found in the lines read meanwhile.
func (t *tester) step(name string, run func(*Step)) Step {
	s := Step{Name: name}
	if t.dead != "" && name != "lifecycle" && name != "stdin-eof" {
		s.skip("not run: %s", t.dead)
		return s
	}
	run(&s)
	// The lines read meanwhile first: a problem they show is usually the
	// cause of what the step then missed.
	s.Problems = append(t.c.takeProblems(), s.Problems...)
	switch {
	case len(s.Problems) > 0:
		s.Status = Fail
	case s.Status == "":
		s.Status = Pass
	}
	return s
}

// noteOnce notes n on s unless an earlier step noted it.
func (t *tester) noteOnce(s *Step, n string) {
	if !t.noted[n] {
		t.noted[n] = true
		s.note("%s", n)
	}
}

// needServer skips a step that needs the fake server when there is none.
func (t *tester) needServer(s *Step) bool {
	if t.srv == nil {
		s.skip("not run: %s", t.why)
		return false
	}
	return true
}

// argvText renders a command for the report.
func argvText(argv []string) string {
	ws := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\") {
			a = fmt.Sprintf("%q", a)
		}
		ws[i] = a
	}
	return strings.Join(ws, " ")
}

// opText names an op for a problem: "#3 subscribe", "#1000000002 close for client 1".
func opText(op driver.Op) string {
	if op.Client != nil {
		return fmt.Sprintf("#%d %s for client %d", op.ID, op.Op, *op.Client)
	}
	return fmt.Sprintf("#%d %s", op.ID, op.Op)
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

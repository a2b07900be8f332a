package stdio

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/faultline/faultline/harness/driver"
)

const (
	// settle bounds the short waits between a program's exit and the last of
	// its output: lines and stderr written just before a crash still count.
	settle = time.Second
	// killWait bounds the wait for a SIGKILLed group to be reaped.
	killWait = 5 * time.Second
)

// Factory returns a driver.Factory that starts argv (argv[0] looked up in
// PATH, no shell) once per driver and speaks the driver protocol with it.
// The factory's ctx bounds the start and the hello, not the program's life:
// Close ends that.
func Factory(argv []string, opts ...Option) driver.Factory {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	argv = slices.Clone(argv)
	var nums driver.Numbers // FAULTLINE_DRIVER: the client's place in the run, whatever order starts run in
	return func(ctx context.Context, sink driver.Sink) (driver.Driver, error) {
		if len(argv) == 0 || argv[0] == "" {
			return nil, &Error{What: "no driver command"}
		}
		client, _ := driver.SlotOf(ctx) // 0 without a slot: a process of its own
		n := nums.Next(ctx)
		p, err := start(ctx, argv, cfg, n, client, sink)
		if err != nil {
			return nil, err
		}
		if p.multi() { // host.go: the client is a view onto a process that can host more
			p.nums = &nums
			return &view{p: p, client: client, n: n}, nil
		}
		return p, nil
	}
}

// Proc is one driver program behind the driver.Driver interface.
type Proc struct {
	argv []string
	cfg  config
	sink driver.Sink
	cmd  *exec.Cmd
	pid  int

	stdin  *os.File // our write end of its stdin
	stdout *os.File // our read end of its stdout
	stderr *os.File // our read end of its stderr
	tail   *ring

	helloCh chan struct{} // closed once the hello is read
	hello   driver.Hello  // written before helloCh closes

	// A multi-session process (host.go): the sinks of the clients placed in
	// it (the first is placed as the hello is read), how many of their views
	// are still open, and the factory's numbers for the clients placed later.
	first  int
	hosted map[int]driver.Sink
	views  int
	nums   *driver.Numbers

	mu        sync.Mutex
	pending   map[int64]pendingOp
	abandoned map[int64]bool // ops whose wait ended: a late reply is dropped, not "unknown"
	maxID     int64
	failure   string        // the first failure's evidence; "" while healthy
	failed    chan struct{} // closed on failure
	reported  bool          // some call has returned the failure
	closing   bool

	gmu    sync.Mutex // orders group kills against the leader's reaping
	reaped bool       // after this the pid may be reused: never signal it again

	exited     chan struct{} // closed once the leader is reaped
	waitErr    error         // set before exited closes
	waitDone   chan struct{} // the waiter goroutine has returned
	readerDone chan struct{}
	stderrDone chan struct{}

	wmu sync.Mutex // one write on stdin at a time
	dmu sync.Mutex // guards gen, the write deadline's owner
	gen uint64

	closeOnce sync.Once
	closeErr  error
}

type pendingOp struct {
	ch chan driver.Reply
}

func start(ctx context.Context, argv []string, cfg config, n int64, first int, sink driver.Sink) (*Proc, error) {
	p := &Proc{argv: argv, cfg: cfg, sink: sink, first: first, tail: newRing(max(cfg.stderrSize, cfg.keep)),
		helloCh: make(chan struct{}), pending: map[int64]pendingOp{}, abandoned: map[int64]bool{},
		failed: make(chan struct{}), exited: make(chan struct{}), waitDone: make(chan struct{}),
		readerDone: make(chan struct{}), stderrDone: make(chan struct{})}
	// Our own pipes, not cmd's: exec.Cmd would close them in Wait while the
	// reader still drains the last lines, and would tie Wait to grandchildren
	// that keep them open.
	var files []*os.File
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		files = append(files, r, w)
		return
	}
	inR, inW, err1 := pipe()
	outR, outW, err2 := pipe()
	errR, errW, err3 := pipe()
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				_ = f.Close()
			}
		}
	}
	if err := firstErr(err1, err2, err3); err != nil {
		closeAll()
		return nil, &Error{What: "cannot make pipes: " + err.Error()}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.Dir = cfg.dir
	cmd.Env = append(os.Environ(), "FAULTLINE_SEED="+strconv.FormatInt(cfg.seed, 10), "FAULTLINE_DRIVER="+strconv.FormatInt(n, 10))
	cmd.Env = append(cmd.Env, cfg.env...)
	ownGroup(cmd)
	err := cmd.Start()
	_, _, _ = inR.Close(), outW.Close(), errW.Close() // the child holds its own copies
	if err != nil {
		closeAll()
		return nil, &Error{What: fmt.Sprintf("cannot start %s: %v", argvText(argv), err)}
	}
	p.cmd, p.pid, p.stdin, p.stdout, p.stderr = cmd, cmd.Process.Pid, inW, outR, errR
	go p.wait()
	go p.readStderr()
	go p.read()

	began := time.Now()
	tm := time.NewTimer(cfg.hello)
	defer tm.Stop()
	select {
	case <-p.helloCh:
		return p, nil
	case <-p.failed:
	case <-tm.C:
		p.fail(fmt.Sprintf("no hello within %v of starting %s", cfg.hello, argvText(argv)))
	case <-ctx.Done():
		p.fail(fmt.Sprintf("no hello within %v of starting %s (the harness's bound: %v)",
			time.Since(began).Round(time.Millisecond), argvText(argv), ctx.Err()))
	}
	err = p.report(nil)
	cctx, cancel := context.WithTimeout(context.Background(), killWait)
	defer cancel()
	_ = p.Close(cctx)
	return nil, err
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// argvText renders an argv for evidence, each word quoted when it needs it.
func argvText(argv []string) string {
	ws := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\") {
			a = strconv.Quote(a)
		}
		ws[i] = a
	}
	return strings.Join(ws, " ")
}

// PID is the driver program's process id.
func (p *Proc) PID() int { return p.pid }

// Hello implements driver.Driver.
func (p *Proc) Hello() driver.Hello { return p.hello }

// KeptStderr is the tail of the program's stderr kept for the report
// (KeepStderr: at most its bytes, starting at a character) and how many
// bytes it wrote in all; ok is false when nothing is kept. Complete once
// Close has returned.
func (p *Proc) KeptStderr() (text string, total int64, ok bool) {
	if p.cfg.keep == 0 {
		return "", 0, false
	}
	text, cut := p.tail.last(p.cfg.keep)
	if cut { // the cut may have split a character: start at the next one
		for n := 1; n < utf8.UTFMax && len(text) > 0 && !utf8.RuneStart(text[0]); n++ {
			text = text[1:]
		}
	}
	return text, p.tail.written(), true
}

// fail marks the driver failed with evidence (the first failure wins) and
// kills it: a program that broke the protocol cannot be trusted to act on
// anything more, and its engine must stop touching the servers.
func (p *Proc) fail(what string) {
	p.mu.Lock()
	if p.failure != "" {
		p.mu.Unlock()
		return
	}
	p.failure = what
	close(p.failed)
	p.mu.Unlock()
	p.killGroup()
}

// killGroup SIGKILLs the program's process group, unless the leader has been
// reaped (its pid, and so the group id, may then belong to someone else).
func (p *Proc) killGroup() {
	p.gmu.Lock()
	defer p.gmu.Unlock()
	if !p.reaped {
		killGroup(p.pid)
	}
}

// report returns the failure as an *Error and notes that someone was told.
// cause is the context's error when the failure is a missed deadline.
func (p *Proc) report(cause error) error {
	// The group is being killed: give its stderr a moment to reach EOF, so
	// the evidence holds the last words (a panic, a stack).
	select {
	case <-p.stderrDone:
	case <-time.After(settle):
	}
	p.mu.Lock()
	p.reported = true
	what := p.failure
	p.mu.Unlock()
	return p.errorf(what, cause)
}

func (p *Proc) errorf(what string, cause error) *Error {
	tail, dropped := p.tail.last(p.cfg.stderrSize)
	return &Error{What: what, Stderr: tail, Dropped: dropped, cause: cause}
}

func (p *Proc) isFailed() bool {
	select {
	case <-p.failed:
		return true
	default:
		return false
	}
}

func (p *Proc) isClosing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closing
}

// wait reaps the program. A death nobody asked for (no Close under way) is
// a failure with the exit status as evidence.
func (p *Proc) wait() {
	defer close(p.waitDone)
	if waitExited(p.pid) == nil {
		p.killGroup() // the leader is a zombie: its group id is still ours
	}
	p.gmu.Lock()
	p.reaped = true
	err := p.cmd.Wait() // returns at once after waitExited; blocks otherwise
	p.gmu.Unlock()
	p.waitErr = err
	close(p.exited)
	// Lines written just before the exit are still in the pipes: let the
	// readers take them first, so a reply sent before a crash still counts.
	deadline := time.After(settle)
	for _, ch := range []chan struct{}{p.readerDone, p.stderrDone} {
		select {
		case <-ch:
		case <-deadline:
		}
	}
	if p.isClosing() {
		return
	}
	select {
	case <-p.helloCh:
		p.fail("exited unexpectedly: " + exitText(err))
	default:
		p.fail("exited before its hello: " + exitText(err))
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// readStderr keeps the tail of stderr (and copies it on, if asked).
func (p *Proc) readStderr() {
	defer close(p.stderrDone)
	buf := make([]byte, 4096)
	for {
		n, err := p.stderr.Read(buf)
		if n > 0 {
			_, _ = p.tail.Write(buf[:n])
			if p.cfg.stderrTo != nil {
				_, _ = p.cfg.stderrTo.Write(buf[:n])
			}
		}
		if err != nil {
			return
		}
	}
}

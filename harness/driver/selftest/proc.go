package selftest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/driver/stdio"
)

// stderrKept is how much of the driver's stderr is kept to show (the
// harness keeps as much as evidence).
const stderrKept = 4 << 10

// rawLine is one line of the driver's stdout as it arrived.
type rawLine struct {
	n       int // 1, 2, … in the order written
	b       []byte
	at      time.Time
	tooLong bool // longer than stdio.MaxLine: b is empty, and nothing more is read
}

// proc is one driver process under test, started the way the harness starts
// one (argv without a shell, a process group of its own, FAULTLINE_SEED and
// FAULTLINE_DRIVER set) but with raw access to its pipes: the self-test
// writes lines the harness never would (garbage) and ends stdin without an
// exit op.
type proc struct {
	argv    []string
	pid     int
	started time.Time
	stdin   *os.File
	stdout  *os.File
	errPipe *os.File
	lines   chan rawLine // closed when stdout ends

	stderrDone chan struct{}
	smu        sync.Mutex
	stderr     []byte // the last stderrKept bytes
	stderrN    int64  // bytes ever written

	exited  chan struct{} // closed once the process is reaped
	exitErr error         // set before exited closes
	exitAt  time.Time

	kmu    sync.Mutex
	reaped bool // after this its pid may be reused: never signal it again
}

// startProc starts argv in dir with env added. An error means it could not
// be started at all (bad input for the self-test).
func startProc(argv []string, dir string, env []string) (*proc, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("no driver command")
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW, outR, outW)
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "FAULTLINE_SEED=1", "FAULTLINE_DRIVER=1"), env...)
	ownGroup(cmd)
	err = cmd.Start()
	closeAll(inR, outW, errW) // the child holds its own copies
	if err != nil {
		closeAll(inW, outR, errR)
		return nil, fmt.Errorf("cannot start %s: %v", strings.Join(argv, " "), err)
	}
	p := &proc{argv: argv, pid: cmd.Process.Pid, started: time.Now(), stdin: inW, stdout: outR, errPipe: errR,
		lines: make(chan rawLine, 256), stderrDone: make(chan struct{}), exited: make(chan struct{})}
	go p.readStdout()
	go p.readStderr()
	go func() {
		err := cmd.Wait()
		p.kmu.Lock()
		p.reaped = true
		p.kmu.Unlock()
		p.exitErr, p.exitAt = err, time.Now()
		close(p.exited)
	}()
	return p, nil
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

func (p *proc) readStdout() {
	defer close(p.lines)
	sc := bufio.NewScanner(p.stdout)
	sc.Buffer(make([]byte, 64<<10), stdio.MaxLine)
	n := 0
	for sc.Scan() {
		n++
		p.lines <- rawLine{n: n, b: append([]byte(nil), sc.Bytes()...), at: time.Now()}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		p.lines <- rawLine{n: n + 1, at: time.Now(), tooLong: true}
	}
}

func (p *proc) readStderr() {
	defer close(p.stderrDone)
	buf := make([]byte, 4096)
	for {
		n, err := p.errPipe.Read(buf)
		if n > 0 {
			p.smu.Lock()
			p.stderr = append(p.stderr, buf[:n]...)
			if over := len(p.stderr) - stderrKept; over > 0 {
				p.stderr = append(p.stderr[:0], p.stderr[over:]...)
			}
			p.stderrN += int64(n)
			p.smu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// stderrTail is what the driver wrote on stderr (the tail of it) and how
// many bytes it wrote in all.
func (p *proc) stderrTail() (string, int64) {
	p.smu.Lock()
	defer p.smu.Unlock()
	return string(p.stderr), p.stderrN
}

// send writes one line, bounded: a driver that does not read its stdin
// fills the pipe.
func (p *proc) send(b []byte, within time.Duration) error {
	_ = p.stdin.SetWriteDeadline(time.Now().Add(within))
	_, err := p.stdin.Write(append(b, '\n'))
	return err
}

// closeStdin ends the driver's input: EOF on its stdin.
func (p *proc) closeStdin() { _ = p.stdin.Close() }

// waitExit waits up to d for the process to end.
func (p *proc) waitExit(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// hasExited reports whether the process has ended.
func (p *proc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exitText says how the process ended.
func (p *proc) exitText() string {
	if p.exitErr == nil {
		return "exit status 0"
	}
	return p.exitErr.Error()
}

// kill ends the process group (unless the leader is reaped: its group id
// may belong to someone else by now), waits, bounded, for the reap and the
// end of stderr, so that the last words are kept, and releases the pipes
// (a child that outlived the leader may hold their other ends).
func (p *proc) kill() {
	p.kmu.Lock()
	if !p.reaped {
		killGroup(p.pid)
	}
	p.kmu.Unlock()
	p.closeStdin()
	deadline := time.After(settle)
	for _, ch := range []chan struct{}{p.exited, p.stderrDone} {
		select {
		case <-ch:
		case <-deadline:
		}
	}
	closeAll(p.stdout, p.errPipe)
}

// settle bounds the waits for a killed driver's last output and its reap.
const settle = 2 * time.Second

package real

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBinary is where Debian's mosquitto package installs the broker.
const DefaultBinary = "/usr/sbin/mosquitto"

// errMissing: no mosquitto to run.
var errMissing = errors.New("mosquitto is not installed: `make deps` installs it (Debian package mosquitto 2.0.11)")

// findBinary returns bin if set, else DefaultBinary, else mosquitto on PATH.
func findBinary(bin string) (string, error) {
	if bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%w (%v)", errMissing, err)
		}
		return bin, nil
	}
	if _, err := os.Stat(DefaultBinary); err == nil {
		return DefaultBinary, nil
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w (not at %s nor on PATH)", errMissing, DefaultBinary)
}

// config is mosquitto.conf for one process: one listener, anonymous
// clients, nothing persisted, every log line (per packet) on stderr, which
// is unbuffered (stdout is block-buffered into a pipe: its lines would come
// late). log_timestamp_format cannot be finer than a second (strftime):
// the harness stamps each line when it reads it anyway. max_keepalive and
// the queue limits keep mosquitto's defaults (2.0.11 applies max_keepalive
// to MQTT 5 clients only).
func config(host string, port int) string {
	var b strings.Builder
	b.WriteString("# faultline: one mosquitto of a scenario (packs/mqtt/real)\n")
	if host == "" {
		fmt.Fprintf(&b, "listener %d\n", port)
	} else {
		fmt.Fprintf(&b, "listener %d %s\n", port, host)
	}
	b.WriteString("allow_anonymous true\npersistence false\n" +
		"log_dest stderr\nlog_type all\nconnection_messages true\n" +
		"log_timestamp true\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\n")
	// As root, mosquitto switches to the user "mosquitto" unless told to
	// stay root; the switch would also clear the parent-death signal.
	if os.Geteuid() == 0 {
		b.WriteString("user root\n")
	}
	return b.String()
}

// process is one running mosquitto. Its stderr is read line by line into
// an unbounded queue (mosquitto blocks on a full pipe: reading must never
// wait for the evidence to be processed), which a second goroutine hands
// to handle in order.
type process struct {
	cmd  *exec.Cmd
	dir  string
	port int

	ready   chan struct{} // closed at "mosquitto version … running"
	bindErr chan struct{} // closed at "Error: Address already in use"
	exited  chan struct{} // closed when the process is reaped
	drained chan struct{} // closed when handle has had every line
	exitErr error         // set before exited is closed

	qmu    sync.Mutex
	queue  []Line
	more   chan struct{}
	closed bool

	ring ring
}

// spawn starts mosquitto on host:port; handle gets every line, in order.
func spawn(bin, host string, port int, handle func(Line)) (*process, error) {
	dir, err := os.MkdirTemp("", "faultline-mosquitto-*")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, []byte(config(host, port)), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Dir = dir
	cmd.SysProcAttr = procAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	p := &process{cmd: cmd, dir: dir, port: port, ready: make(chan struct{}), bindErr: make(chan struct{}),
		exited: make(chan struct{}), drained: make(chan struct{}), more: make(chan struct{}, 1), ring: ring{max: 40}}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go p.read(stderr)
	go p.deliver(handle)
	return p, nil
}

// read pumps stderr into the queue, then reaps the process.
func (p *process) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 4096)
	var ready, bind bool
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			p.ring.add(strings.TrimRight(s, "\r\n"))
			l := ParseLine(s)
			switch {
			case l.Kind == LineRunning && !ready:
				ready = true
				close(p.ready)
			case l.Kind == LineBindError && !bind:
				bind = true
				close(p.bindErr)
			}
			p.push(l)
		}
		if err != nil {
			break
		}
	}
	p.exitErr = p.cmd.Wait()
	_ = os.RemoveAll(p.dir)
	close(p.exited)
	p.qmu.Lock()
	p.closed = true
	p.qmu.Unlock()
	p.signal()
}

func (p *process) push(l Line) {
	p.qmu.Lock()
	p.queue = append(p.queue, l)
	p.qmu.Unlock()
	p.signal()
}

func (p *process) signal() {
	select {
	case p.more <- struct{}{}:
	default:
	}
}

// deliver hands the queued lines to handle until the process is gone and
// the queue empty.
func (p *process) deliver(handle func(Line)) {
	defer close(p.drained)
	for {
		p.qmu.Lock()
		batch, closed := p.queue, p.closed
		p.queue = nil
		p.qmu.Unlock()
		for _, l := range batch {
			handle(l)
		}
		if len(batch) == 0 {
			if closed {
				return
			}
			<-p.more
		}
	}
}

// kill ends the process at once (SIGKILL to its process group) and waits
// until every line it wrote has been handled.
func (p *process) kill() {
	select {
	case <-p.exited:
	default:
		killGroup(p.cmd.Process.Pid)
		_ = p.cmd.Process.Kill() // where there is no process group: the process itself
	}
	<-p.exited
	<-p.drained
}

// waitReady waits until mosquitto listens, for at most d: nil when it
// does, errBind when its port was taken, another error when it exited or
// did not get ready in time (with its last lines).
func (p *process) waitReady(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.ready:
		return nil
	case <-p.bindErr:
		p.kill()
		return errBind
	case <-p.exited:
		<-p.drained
		return fmt.Errorf("mosquitto exited (%v): %s", p.exitErr, p.ring.text())
	case <-t.C:
		p.kill()
		return fmt.Errorf("mosquitto not listening within %v: %s", d, p.ring.text())
	}
}

var errBind = errors.New("address already in use")

// freePort asks the kernel for a free port on host (mosquitto cannot be
// given port 0: it would listen on 1883). Another process may take it
// before mosquitto binds it; the caller retries on errBind.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ring keeps the last lines of the log, for errors.
type ring struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (r *ring) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, s)
	if len(r.lines) > r.max {
		r.lines = r.lines[len(r.lines)-r.max:]
	}
}

func (r *ring) last() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

func (r *ring) text() string {
	l := r.last()
	if len(l) > 8 {
		l = l[len(l)-8:]
	}
	if len(l) == 0 {
		return "no log lines"
	}
	return "last lines: " + strconv.Quote(strings.Join(l, "\n"))
}

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// wait bounds every wait of the tests.
const wait = 15 * time.Second

const mosquittoBin = "/usr/sbin/mosquitto"

// broker is a mosquitto process on 127.0.0.1, from a generated config.
type broker struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	log  *strings.Builder
}

// runBroker starts mosquitto on a free port (port 0) or on the given one
// (a restart). mosquitto cannot listen on port 0, so a free port is picked
// and the start retried when another process took it meanwhile. extra is
// appended to the config (e.g. "allow_anonymous false").
func runBroker(t *testing.T, port int, extra string) *broker {
	t.Helper()
	if _, err := os.Stat(mosquittoBin); err != nil {
		t.Skipf("no mosquitto: %v", err)
	}
	dir := t.TempDir()
	var last string
	for try := 0; try < 8; try++ {
		p := port
		if p == 0 {
			p = freePort(t)
		}
		b := &broker{t: t, port: p, dir: dir, done: make(chan struct{}), log: &strings.Builder{}}
		if b.start(extra) {
			t.Cleanup(b.kill)
			return b
		}
		last = b.log.String()
		if port != 0 {
			time.Sleep(100 * time.Millisecond) // the old listener's port may linger
		}
	}
	t.Fatalf("mosquitto did not start: %s", last)
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (b *broker) start(extra string) bool {
	conf := filepath.Join(b.dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\n%s\n", b.port, extra)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		b.t.Fatal(err)
	}
	b.cmd = exec.Command(mosquittoBin, "-c", conf)
	b.cmd.Stdout = io.Discard
	b.cmd.Stderr = &lockedWriter{b: b.log}
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-b.done:
			return false // exited: the port was taken, most likely
		default:
		}
		if c, err := net.DialTimeout("tcp", b.addr(), 100*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.kill()
	return false
}

func (b *broker) addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

func (b *broker) url() string { return "mqtt://" + b.addr() }

// kill ends mosquitto with SIGKILL: its connections die with it.
func (b *broker) kill() {
	if b.cmd.Process != nil {
		b.cmd.Process.Kill()
	}
	select {
	case <-b.done:
	case <-time.After(wait):
		b.t.Error("mosquitto did not end")
	}
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// deadURL is a URL nobody listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("mqtt://127.0.0.1:%d", freePort(t))
}

// proxy forwards TCP to a broker; cut drops every connection and refuses
// new ones until healed; hole swallows every byte without closing.
type proxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	hole  bool
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	t.Cleanup(func() { l.Close(); p.setCut(true) })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			cut := p.cut
			p.mu.Unlock()
			if cut {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go p.pipe(c, s)
			go p.pipe(s, c)
		}
	}()
	return p
}

func (p *proxy) url() string { return "mqtt://" + p.l.Addr().String() }

func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		hole := p.hole
		p.mu.Unlock()
		if n > 0 && !hole {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

// setCut drops every connection and refuses new ones (true), or admits again.
func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	p.cut = cut
	conns := p.conns
	if cut {
		p.conns = nil
	}
	p.mu.Unlock()
	if cut {
		for _, c := range conns {
			c.Close()
		}
	}
}

func (p *proxy) setHole(h bool) {
	p.mu.Lock()
	p.hole = h
	p.mu.Unlock()
}

type line = map[string]any

// rig runs a Driver on pipes and records every line it writes.
type rig struct {
	t    *testing.T
	in   *io.PipeWriter
	done chan struct{}

	mu    sync.Mutex
	cond  *sync.Cond
	lines []line
	at    []time.Time // when each line arrived
	next  int64
}

func newRig(t *testing.T) *rig { return newRigEnv(t, "") }

// newRigEnv runs a driver whose FAULTLINE_DRIVER is num ("" none).
func newRigEnv(t *testing.T, num string) *rig {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r := &rig{t: t, in: inW, done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	d := New(outW, func(k string) string {
		if k == "FAULTLINE_DRIVER" {
			return num
		}
		return ""
	})
	go func() {
		d.Serve(inR)
		close(r.done)
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("driver wrote a line that is not a JSON object: %q", sc.Text())
				continue
			}
			r.mu.Lock()
			r.lines = append(r.lines, l)
			r.at = append(r.at, time.Now())
			r.cond.Broadcast()
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-r.done:
		case <-time.After(wait):
			t.Error("driver did not end after its input closed")
		}
	})
	return r
}

// send writes an op (an id is assigned when it has none) and returns its id.
func (r *rig) send(o map[string]any) int64 {
	r.t.Helper()
	r.mu.Lock()
	r.next++
	id := r.next
	r.mu.Unlock()
	if c, ok := o["client"].(int); ok {
		id += int64(c) * 1_000_000_000
	}
	o["id"] = id
	b, _ := json.Marshal(o)
	if _, err := r.in.Write(append(b, '\n')); err != nil {
		r.t.Fatal(err)
	}
	return id
}

// waitFor returns the first line from index from on that matches, failing
// the test at the deadline.
func (r *rig) waitFor(what string, match func(line) bool) line {
	r.t.Helper()
	deadline := time.Now().Add(wait)
	timer := time.AfterFunc(wait, func() { r.mu.Lock(); r.cond.Broadcast(); r.mu.Unlock() })
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; ; {
		for ; i < len(r.lines); i++ {
			if match(r.lines[i]) {
				return r.lines[i]
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s; lines:\n%s", what, dump(r.lines))
		}
		r.cond.Wait()
	}
}

func dump(ls []line) string {
	var b strings.Builder
	for _, l := range ls {
		if _, ok := l["contract"]; ok {
			l = copyWithout(l, "contract")
		}
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func copyWithout(l line, k string) line {
	c := line{}
	for kk, v := range l {
		if kk != k {
			c[kk] = v
		}
	}
	c[k] = "…"
	return c
}

func (r *rig) reply(id int64) line {
	r.t.Helper()
	return r.waitFor(fmt.Sprintf("the reply to op %d", id), func(l line) bool {
		re, ok := l["re"].(float64)
		return ok && int64(re) == id
	})
}

func (r *rig) do(o map[string]any) line {
	r.t.Helper()
	return r.reply(r.send(o))
}

func clientIdx(l line) int {
	if c, ok := l["client"].(float64); ok {
		return int(c)
	}
	return -1
}

// state waits for client c's state event into to.
func (r *rig) state(c int, to string) line {
	r.t.Helper()
	return r.waitFor(fmt.Sprintf("client %d going %s", c, to), func(l line) bool {
		return l["type"] == "state" && l["to"] == to && clientIdx(l) == c
	})
}

// states is client c's state events so far.
func (r *rig) states(c int) []line {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []line
	for _, l := range r.lines {
		if l["type"] == "state" && clientIdx(l) == c {
			out = append(out, l)
		}
	}
	return out
}

// snapshot is every line so far.
func (r *rig) snapshot() []line {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]line(nil), r.lines...)
}

// events is client c's events of a type so far.
func (r *rig) events(c int, typ string) []line {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []line
	for _, l := range r.lines {
		if l["type"] == typ && clientIdx(l) == c {
			out = append(out, l)
		}
	}
	return out
}

// checkLifecycle holds client c's states to the lifecycle rule U1.
func (r *rig) checkLifecycle(c int) {
	r.t.Helper()
	prev := ""
	for i, s := range r.states(c) {
		from, _ := s["from"].(string)
		to, _ := s["to"].(string)
		if from != prev {
			r.t.Errorf("client %d state %d: from %q, previous to %q", c, i, from, prev)
		}
		if !legal(prev, to) {
			r.t.Errorf("client %d state %d: illegal %q -> %q", c, i, prev, to)
		}
		if phases[to] != s["phase"] || s["native"] == "" || s["native"] == nil {
			r.t.Errorf("client %d state %d: phase %v native %v for %s", c, i, s["phase"], s["native"], to)
		}
		prev = to
	}
}

// options is a scenario client block as the harness renders it.
func options(mod func(map[string]any)) map[string]any {
	o := map[string]any{
		"reconnect": map[string]any{"enabled": true, "timeout_ms": 60000, "retention_ms": 60000,
			"strategy": map[string]any{"backoff": "fixed", "initial_ms": 200}},
		"failover":           map[string]any{"auto": false, "load_balancing": false, "cascading": false},
		"connect_timeout_ms": 1000,
		"migration":          map[string]any{"enabled": false},
	}
	if mod != nil {
		mod(o)
	}
	return o
}

func sub(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }

// observer is a plain paho client of the test's own on a broker: it
// publishes as another application would, and records what it receives.
type observer struct {
	t  *testing.T
	cl mqtt.Client

	mu  sync.Mutex
	got map[string][]string // topic → payloads
}

func newObserver(t *testing.T, b *broker, topics ...string) *observer {
	t.Helper()
	ob := &observer{t: t, got: map[string][]string{}}
	o := mqtt.NewClientOptions().AddBroker(b.url()).SetClientID(fmt.Sprintf("observer-%d", time.Now().UnixNano())).
		SetProtocolVersion(4).SetConnectTimeout(2 * time.Second)
	ob.cl = mqtt.NewClient(o)
	if tok := ob.cl.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("observer connect: %v", tok.Error())
	}
	t.Cleanup(func() { ob.cl.Disconnect(50) })
	for _, topic := range topics {
		tok := ob.cl.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
			ob.mu.Lock()
			ob.got[m.Topic()] = append(ob.got[m.Topic()], string(m.Payload()))
			ob.mu.Unlock()
		})
		if !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("observer subscribe %s: %v", topic, tok.Error())
		}
	}
	return ob
}

func (ob *observer) publish(topic, payload string) {
	ob.t.Helper()
	tok := ob.cl.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		ob.t.Fatalf("observer publish: %v", tok.Error())
	}
}

// received waits until topic has n payloads (bounded) and returns them.
func (ob *observer) received(topic string, n int) []string {
	ob.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ob.mu.Lock()
		got := append([]string(nil), ob.got[topic]...)
		ob.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// until waits until topic got payload (bounded) and returns what it got.
func (ob *observer) until(topic, payload string) []string {
	ob.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ob.mu.Lock()
		got := append([]string(nil), ob.got[topic]...)
		ob.mu.Unlock()
		if slices.Contains(got, payload) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

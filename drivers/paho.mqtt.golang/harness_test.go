package main

import (
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
	"github.com/faultline/faultline/drivers/kit/kittest"
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

type line = kittest.Line

func newRig(t *testing.T) *kittest.Rig { return newRigEnv(t, "") }

// newRigEnv runs a Driver on pipes, its FAULTLINE_DRIVER num ("" none),
// and records every line it writes.
func newRigEnv(t *testing.T, num string) *kittest.Rig {
	t.Helper()
	getenv := func(k string) string {
		if k == "FAULTLINE_DRIVER" {
			return num
		}
		return ""
	}
	return kittest.NewRig(t, wait, func(in io.Reader, out io.Writer) { New(out, getenv).Serve(in) })
}

// options is a scenario client block as the harness renders it.
func options(mod func(map[string]any)) map[string]any { return kittest.Options(200, mod) }

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

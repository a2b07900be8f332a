package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// wait bounds every wait of the tests.
const wait = 10 * time.Second

// runServer starts an embedded nats-server on a free port (port 0) or on
// the given one (a restart).
func runServer(t *testing.T, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(wait) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func urlOf(s *server.Server) string {
	return fmt.Sprintf("nats://127.0.0.1:%d", s.Addr().(*net.TCPAddr).Port)
}

func portOf(s *server.Server) int { return s.Addr().(*net.TCPAddr).Port }

// deadURL is a URL nobody listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "nats://" + l.Addr().String()
	l.Close()
	return u
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
	next  int64
}

func newRig(t *testing.T) *rig {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r := &rig{t: t, in: inW, done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	d := New(outW, func(string) string { return "" })
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

func clientOf(l line) int {
	if c, ok := l["client"].(float64); ok {
		return int(c)
	}
	return -1
}

// state waits for client c's state event into to.
func (r *rig) state(c int, to string) line {
	r.t.Helper()
	return r.waitFor(fmt.Sprintf("client %d going %s", c, to), func(l line) bool {
		return l["type"] == "state" && l["to"] == to && clientOf(l) == c
	})
}

// states is client c's state events so far.
func (r *rig) states(c int) []line {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []line
	for _, l := range r.lines {
		if l["type"] == "state" && clientOf(l) == c {
			out = append(out, l)
		}
	}
	return out
}

// events is client c's events of a type so far.
func (r *rig) events(c int, typ string) []line {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []line
	for _, l := range r.lines {
		if l["type"] == typ && clientOf(l) == c {
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
			"strategy": map[string]any{"backoff": "fixed", "initial_ms": 50}},
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

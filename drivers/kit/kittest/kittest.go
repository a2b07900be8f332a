// Package kittest is the test rig every Go driver's tests share: a driver
// served on pipes whose every line is recorded, the waits on those lines,
// the lifecycle rule U1 held to each client's states, and the scenario
// options and contract checks the drivers' tests build on. It is imported
// by _test files only.
package kittest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit"
)

// Line is one line a driver wrote, as JSON decodes it.
type Line = map[string]any

// Rig runs a driver on pipes and records every line it writes. Mu guards
// Lines, At and Next (a WaitFor match runs under it).
type Rig struct {
	T    *testing.T
	Wait time.Duration // bounds every wait
	Done chan struct{} // closed when the driver's Serve returned

	in *io.PipeWriter

	Mu    sync.Mutex
	cond  *sync.Cond
	Lines []Line
	At    []time.Time // when each line arrived
	Next  int64       // the last op id assigned
}

// NewRig runs serve (the driver's Serve of in, writing its lines to out) on
// pipes; the test's end closes its input and waits (bounded by wait) for
// serve to return.
func NewRig(t *testing.T, wait time.Duration, serve func(in io.Reader, out io.Writer)) *Rig {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r := &Rig{T: t, Wait: wait, in: inW, Done: make(chan struct{})}
	r.cond = sync.NewCond(&r.Mu)
	go func() {
		serve(inR, outW)
		close(r.Done)
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l Line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("driver wrote a line that is not a JSON object: %q", sc.Text())
				continue
			}
			r.Mu.Lock()
			r.Lines = append(r.Lines, l)
			r.At = append(r.At, time.Now())
			r.cond.Broadcast()
			r.Mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-r.Done:
		case <-time.After(wait):
			t.Error("driver did not end after its input closed")
		}
	})
	return r
}

// Send writes an op (its id assigned: the next number, plus the client
// index times 10⁹) and returns its id.
func (r *Rig) Send(o map[string]any) int64 {
	r.T.Helper()
	r.Mu.Lock()
	r.Next++
	id := r.Next
	r.Mu.Unlock()
	if c, ok := o["client"].(int); ok {
		id += int64(c) * 1_000_000_000
	}
	o["id"] = id
	b, _ := json.Marshal(o)
	if _, err := r.in.Write(append(b, '\n')); err != nil {
		r.T.Fatal(err)
	}
	return id
}

// WaitFor returns the first line that matches, failing the test at the
// deadline. match runs under Mu.
func (r *Rig) WaitFor(what string, match func(Line) bool) Line {
	r.T.Helper()
	deadline := time.Now().Add(r.Wait)
	timer := time.AfterFunc(r.Wait, func() { r.Mu.Lock(); r.cond.Broadcast(); r.Mu.Unlock() })
	defer timer.Stop()
	r.Mu.Lock()
	defer r.Mu.Unlock()
	for i := 0; ; {
		for ; i < len(r.Lines); i++ {
			if match(r.Lines[i]) {
				return r.Lines[i]
			}
		}
		if time.Now().After(deadline) {
			r.T.Fatalf("timed out waiting for %s; lines:\n%s", what, Dump(r.Lines))
		}
		r.cond.Wait()
	}
}

// Reply waits for the reply to op id.
func (r *Rig) Reply(id int64) Line {
	r.T.Helper()
	return r.WaitFor(fmt.Sprintf("the reply to op %d", id), func(l Line) bool {
		re, ok := l["re"].(float64)
		return ok && int64(re) == id
	})
}

// Do sends an op and waits for its reply.
func (r *Rig) Do(o map[string]any) Line {
	r.T.Helper()
	return r.Reply(r.Send(o))
}

// ClientOf is a line's client index, -1 when it has none.
func ClientOf(l Line) int {
	if c, ok := l["client"].(float64); ok {
		return int(c)
	}
	return -1
}

// State waits for client c's state event into to.
func (r *Rig) State(c int, to string) Line {
	r.T.Helper()
	return r.WaitFor(fmt.Sprintf("client %d going %s", c, to), func(l Line) bool {
		return l["type"] == "state" && l["to"] == to && ClientOf(l) == c
	})
}

// States is client c's state events so far.
func (r *Rig) States(c int) []Line { return r.Events(c, "state") }

// Events is client c's events of a type so far.
func (r *Rig) Events(c int, typ string) []Line {
	r.Mu.Lock()
	defer r.Mu.Unlock()
	var out []Line
	for _, l := range r.Lines {
		if l["type"] == typ && ClientOf(l) == c {
			out = append(out, l)
		}
	}
	return out
}

// Snapshot is every line so far.
func (r *Rig) Snapshot() []Line {
	r.Mu.Lock()
	defer r.Mu.Unlock()
	return append([]Line(nil), r.Lines...)
}

// CheckLifecycle holds client c's states to the lifecycle rule U1: each
// from the previous to, only legal transitions, the state's phase, a
// native name.
func (r *Rig) CheckLifecycle(c int) {
	r.T.Helper()
	prev := ""
	for i, s := range r.States(c) {
		from, _ := s["from"].(string)
		to, _ := s["to"].(string)
		if from != prev {
			r.T.Errorf("client %d state %d: from %q, previous to %q", c, i, from, prev)
		}
		if !kit.Legal(prev, to) {
			r.T.Errorf("client %d state %d: illegal %q -> %q", c, i, prev, to)
		}
		if kit.Phase(to) != s["phase"] || s["native"] == "" || s["native"] == nil {
			r.T.Errorf("client %d state %d: phase %v native %v for %s", c, i, s["phase"], s["native"], to)
		}
		prev = to
	}
}

// Dump is lines one a row, each contract elided.
func Dump(ls []Line) string {
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

func copyWithout(l Line, k string) Line {
	c := Line{}
	for kk, v := range l {
		if kk != k {
			c[kk] = v
		}
	}
	c[k] = "…"
	return c
}

// CountType is how many of ls are events of a type.
func CountType(ls []Line, typ string) int {
	n := 0
	for _, l := range ls {
		if l["type"] == typ {
			n++
		}
	}
	return n
}

// CheckClosed holds the default session, closed by the last op sent, to
// the close's rules: its CLOSED_BY_CLIENT event came before the close's
// reply, a send after it is refused, nothing follows the close (within
// 100 ms), its states keep the lifecycle rule, and there are want of them.
func (r *Rig) CheckClosed(want int) {
	r.T.Helper()
	r.Mu.Lock()
	ci, ri := -1, -1
	for i, l := range r.Lines {
		if l["to"] == kit.ClosedByClient {
			ci = i
		}
		if re, ok := l["re"].(float64); ok && int64(re) == r.Next {
			ri = i
		}
	}
	r.Mu.Unlock()
	if ci > ri {
		r.T.Errorf("close replied (line %d) before CLOSED_BY_CLIENT (line %d)", ri, ci)
	}
	if l := r.Do(map[string]any{"op": "send", "payload": 1}); l["ok"] != false {
		r.T.Errorf("send after close: %v", l)
	}
	time.Sleep(100 * time.Millisecond) // nothing may follow the close
	r.CheckLifecycle(-1)
	if n := len(r.States(-1)); n != want {
		r.T.Errorf("%d state events, want %d:\n%s", n, want, Dump(r.States(-1)))
	}
}

// CloseOneThenExit closes client one of clients 0..n-1, each connected
// (CONNECTING, CONNECTED_ACTIVE): the others' states stay as they were,
// and every event of the run names its client. Then exit closes every
// client (CLOSED_BY_CLIENT, lifecycle rule kept) and ends the driver.
func (r *Rig) CloseOneThenExit(n, one int) {
	r.T.Helper()
	r.Do(map[string]any{"op": "close", "client": one})
	r.State(one, kit.ClosedByClient)
	time.Sleep(50 * time.Millisecond)
	for k := 0; k < n; k++ {
		if k != one && len(r.States(k)) != 2 {
			r.T.Errorf("client %d: %d states after client %d's close", k, len(r.States(k)), one)
		}
	}
	r.Mu.Lock()
	for _, l := range r.Lines {
		if l["type"] != nil && l["client"] == nil {
			r.T.Errorf("event without client in a multi-session run: %v", l)
		}
	}
	r.Mu.Unlock()
	if l := r.Do(map[string]any{"op": "exit"}); l["ok"] != true {
		r.T.Fatalf("exit: %v", l)
	}
	select {
	case <-r.Done:
	case <-time.After(r.Wait):
		r.T.Fatal("driver did not end after exit")
	}
	for k := 0; k < n; k++ {
		r.State(k, kit.ClosedByClient)
		r.CheckLifecycle(k)
	}
}

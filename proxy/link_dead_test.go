package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// linkDeadChild marks the child process of TestLinkDeadRecorded.
const linkDeadChild = "FAULTLINE_TEST_LINK_DEAD_CHILD"

// A link whose process runs out of descriptors: Toxiproxy's accept loop
// ends at its first accept error and never resumes. The link runs in a
// child process whose every free descriptor but two is taken, so that the
// first client's connection takes the last two (the link's accept, its dial
// to the server) and the second one's accept fails. The clients and the
// server are this process's, out of the child's budget. The child prints
// its link events; link.dead must name the link and the error, and no
// connection after it is taken.
func TestLinkDeadRecorded(t *testing.T) {
	if os.Getenv(linkDeadChild) != "" {
		runLinkDeadChild(t, os.Getenv(linkDeadChild))
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("fills its descriptor table through /proc/self/fd and RLIMIT_NOFILE: Linux only")
	}
	up := newEcho(t) // the link's server, here: the child holds only the link's two descriptors a client
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLinkDeadRecorded$", "-test.count=1", "-test.timeout=30s")
	cmd.Env = append(os.Environ(), linkDeadChild+"="+up.addr())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	defer func() {
		stdin.Close() // the child ends when its stdin does
		for range lines {
		}
		_ = cmd.Wait()
	}()
	var got history.History
	// next waits for the child's next line that is an event of kind (or
	// the address line when kind is ""), within d.
	next := func(kind string, d time.Duration) (string, bool) {
		timer := time.NewTimer(d)
		defer timer.Stop()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return "", false
				}
				if a, ok := strings.CutPrefix(l, "ADDR "); ok && kind == "" {
					return a, true
				}
				if j, ok := strings.CutPrefix(l, "EVENT "); ok {
					var e history.Event
					if err := json.Unmarshal([]byte(j), &e); err != nil {
						t.Fatalf("child line %q: %v", l, err)
					}
					got = append(got, e)
					if e.Kind == kind {
						return "", true
					}
				}
			case <-timer.C:
				return "", false
			}
		}
	}
	addr, ok := next("", 10*time.Second)
	if !ok {
		t.Fatal("the child never said its link's address")
	}
	c1 := dial(t, addr)
	if _, ok := next(history.KindLinkAccept, 5*time.Second); !ok {
		t.Fatalf("the link never took the first client: %v", got)
	}
	mustEcho(t, c1) // the first client is served: the link's two descriptors were there
	dial(t, addr)
	if _, ok := next(history.KindLinkDead, 5*time.Second); !ok {
		t.Fatalf("no link.dead after the second client: %v", got)
	}
	dial(t, addr) // completes in the listener's backlog; nobody takes it
	next("none", 300*time.Millisecond)
	var accepts, dead history.History
	for _, e := range got {
		switch e.Kind {
		case history.KindLinkAccept:
			accepts = append(accepts, e)
		case history.KindLinkDead:
			dead = append(dead, e)
		}
	}
	if len(dead) != 1 || dead[0].Link != "s1" || dead[0].Source != history.SrcLink || !strings.Contains(dead[0].Reason, "too many open files") {
		t.Fatalf("want one link.dead of s1 with the accept error, got %v", dead)
	}
	if len(accepts) != 1 {
		t.Fatalf("want only the first client taken (a dead link takes none), got %v", accepts)
	}
}

// runLinkDeadChild hosts one link to upstream, fills the descriptor table
// but for two, prints ADDR and then every event recorded as EVENT <json>,
// until its stdin ends.
func runLinkDeadChild(t *testing.T, upstream string) {
	log := newLog()
	l, err := newTestEmbedded(t, log).Link(ctx(t), "s1", upstream)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, 2)
	fmt.Printf("ADDR %s\n", l.Addr())
	stdin := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stdin) }()
	printed := 0
	for {
		h := log.Events()
		for _, e := range h[printed:] {
			b, _ := json.Marshal(e)
			fmt.Printf("EVENT %s\n", b)
		}
		printed = len(h)
		select {
		case <-stdin:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// fill lowers the soft RLIMIT_NOFILE a little above what is open, then
// opens /dev/null until no descriptor is left, and closes free of them.
func fill(t *testing.T, free int) {
	open, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = uint64(len(open) + 32)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	var held []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if errors.Is(err, syscall.EMFILE) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, f)
	}
	if len(held) < free {
		t.Fatalf("only %d descriptors to fill", len(held))
	}
	for _, f := range held[len(held)-free:] {
		f.Close()
	}
	t.Cleanup(func() {
		for _, f := range held[:len(held)-free] {
			f.Close()
		}
	})
}

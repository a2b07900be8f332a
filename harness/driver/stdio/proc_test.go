package stdio

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/stdio/stdiotest"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == stdiotest.Arg {
		os.Exit(stdiotest.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == serveArg {
		os.Exit(serveStub())
	}
	// Fake drivers are this binary: under -race each would sleep 1s at exit
	// (the race runtime's default atexit_sleep_ms) and look slow to close.
	_ = os.Setenv("GORACE", "atexit_sleep_ms=0")
	goleak.VerifyTestMain(m)
}

// fake is the argv of this test binary as a fake driver.
func fake(flags ...string) []string {
	return append([]string{os.Args[0], stdiotest.Arg}, flags...)
}

// events collects what a driver reports.
type events struct {
	mu  sync.Mutex
	evs []driver.Event
}

func (e *events) sink(ev driver.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) all() []driver.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]driver.Event(nil), e.evs...)
}

// startFake starts a fake driver and makes sure it is closed and gone by the
// end of the test.
func startFake(t *testing.T, ev *events, opts []Option, flags ...string) *Proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := Factory(fake(flags...), opts...)(ctx, ev.sink)
	if err != nil {
		t.Fatalf("start %v: %v", flags, err)
	}
	p := d.(*Proc)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = p.Close(cctx)
		assertGone(t, p.PID())
	})
	return p
}

// assertGone waits (bounded) until pid no longer runs. A zombie counts as
// gone: it is dead and only waits for its parent (init, for a grandchild).
func assertGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(pid) || zombie(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("pid %d still running", pid)
}

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func do(t *testing.T, p *Proc, id int64, op string, within time.Duration) (driver.Reply, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return p.Do(ctx, driver.Op{ID: id, Op: op, Topic: "t"})
}

func wantDriverErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a driver failure containing %q, got none", parts)
	}
	if !errors.Is(err, driver.ErrDriver) {
		t.Errorf("error does not wrap driver.ErrDriver: %v", err)
	}
	for _, s := range parts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
}

func TestGoodDriverRepliesAndReportsEvents(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-sdk", "good-sdk", "-features", "reconnect,failover")
	if h := p.Hello(); h.SDK != "good-sdk" || !h.Has(driver.FeatFailover) || h.Version != "0.0.1-test" {
		t.Fatalf("hello = %+v", h)
	}
	rep, err := do(t, p, 1, driver.OpConnect, 5*time.Second)
	if err != nil || !rep.OK || rep.Re != 1 {
		t.Fatalf("connect: %+v %v", rep, err)
	}
	if evs := ev.all(); len(evs) != 2 || evs[0].To != driver.Connecting || evs[1].To != driver.ConnectedActive {
		t.Fatalf("events = %+v (the state event comes before the reply)", evs)
	}
	pid := p.PID()
	cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := p.Close(cctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("a driver that obeys exit took %v to close", el)
	}
	if alive(pid) {
		t.Errorf("pid %d not reaped after Close", pid)
	}
	if _, err := do(t, p, 2, driver.OpClose, time.Second); err == nil {
		t.Error("an op after Close must fail")
	}
}

func TestConcurrentOpsGetTheirOwnReplies(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-refuse", "no thanks")
	var wg sync.WaitGroup
	for i := int64(1); i <= 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := do(t, p, i, driver.OpSubscribe, 5*time.Second)
			if err != nil || rep.Re != i || rep.OK || rep.Error != "no thanks" {
				t.Errorf("op %d: %+v %v", i, rep, err)
			}
		}()
	}
	wg.Wait()
}

func TestCrashDuringAnOpFailsItWithExitStatusAndStderr(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.Crash, "-after", "1")
	if rep, err := do(t, p, 1, driver.OpConnect, 5*time.Second); err != nil || !rep.OK {
		t.Fatalf("first op: %+v %v", rep, err)
	}
	_, err := do(t, p, 2, driver.OpSubscribe, 5*time.Second)
	wantDriverErr(t, err, "exited unexpectedly: exit status 2", `panic: fake crash on op 2 subscribe`)
	// every later op fails at once with the same evidence
	start := time.Now()
	_, err2 := do(t, p, 3, driver.OpClose, 5*time.Second)
	wantDriverErr(t, err2, "exited unexpectedly: exit status 2")
	if time.Since(start) > 2*time.Second {
		t.Errorf("an op on a dead driver took %v", time.Since(start))
	}
	// already told: Close does not repeat it
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("close after a reported crash: %v", err)
	}
}

func TestDeathBetweenOpsIsReportedByClose(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.Die, "-after", "1", "-delay", "50ms")
	if _, err := do(t, p, 1, driver.OpConnect, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.failed:
	case <-time.After(5 * time.Second):
		t.Fatal("the death was not noticed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	wantDriverErr(t, p.Close(ctx), "exited unexpectedly: exit status 3", "fatal error: fake sudden death")
}

func TestHungDriverIsKilledAtTheOpDeadline(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.Hang)
	start := time.Now()
	_, err := do(t, p, 1, driver.OpConnect, 300*time.Millisecond)
	wantDriverErr(t, err, "no reply to op #1 connect within 3")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hang should wrap the deadline: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("the op took %v with a 300ms bound", el)
	}
	assertGone(t, p.PID()) // killed at the hang, not only at Close
}

func TestDeafDriverCannotBlockAWrite(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.Deaf)
	big := make([]byte, 2<<20) // far more than a pipe holds
	for i := range big {
		big[i] = 'x'
	}
	payload := []byte(strconv.Quote(string(big)))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Do(ctx, driver.Op{ID: 1, Op: driver.OpSend, Payload: payload})
	wantDriverErr(t, err, "no reply to op #1 send", "not reading its stdin")
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("a blocked write took %v with a 300ms bound", el)
	}
}

func TestGarbageLineFailsWithTheLineQuoted(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.Garbage, "-after", "1")
	if _, err := do(t, p, 1, driver.OpConnect, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err := do(t, p, 2, driver.OpSubscribe, 5*time.Second)
	wantDriverErr(t, err, "malformed line 5 on stdout (not a JSON object)", `"this is not JSON <script>alert(1)</script>"`)
	assertGone(t, p.PID())
}

func TestReplyToUnknownIDFails(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.UnknownID)
	_, err := do(t, p, 7, driver.OpConnect, 5*time.Second)
	wantDriverErr(t, err, "reply to unknown id 1007 on line 2", `"{\"re\":1007,\"ok\":true}"`)
}

func TestLateReplyToAnAbandonedOpIsDropped(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.Slow, "-delay", "200ms")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := p.Do(ctx, driver.Op{ID: 1, Op: driver.OpSubscribe})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want a cancelled op, got %v", err)
	}
	// op 1's reply arrives while op 2 waits: dropped, not "unknown id"
	rep, err := do(t, p, 2, driver.OpSubscribe, 5*time.Second)
	if err != nil || rep.Re != 2 {
		t.Fatalf("op 2: %+v %v", rep, err)
	}
}

func TestNoHelloIsBoundedAndLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Factory(fake("-mode", stdiotest.NoHello), HelloTimeout(300*time.Millisecond))(ctx, func(driver.Event) {})
	wantDriverErr(t, err, "no hello within 300ms", "fake driver no-hello starting")
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v", el)
	}
}

func TestHelloBoundedByTheFactoryContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Factory(fake("-mode", stdiotest.NoHello))(ctx, func(driver.Event) {})
	wantDriverErr(t, err, "no hello within", "the harness's bound")
}

func TestBadHelloAndEarlyExitAndMissingProgram(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sink := func(driver.Event) {}
	_, err := Factory(fake("-mode", stdiotest.BadHello))(ctx, sink)
	wantDriverErr(t, err, "malformed line 1 on stdout (the first line must be the hello")
	_, err = Factory([]string{"sh", "-c", "echo 'cannot find my SDK' >&2; exit 7"})(ctx, sink)
	wantDriverErr(t, err, "exited before its hello: exit status 7", `stderr: "cannot find my SDK\n"`)
	_, err = Factory([]string{"/nonexistent/driver", "x"})(ctx, sink)
	wantDriverErr(t, err, "cannot start /nonexistent/driver x")
	_, err = Factory(nil)(ctx, sink)
	wantDriverErr(t, err, "no driver command")
}

func TestDriverThatIgnoresExitIsKilledAtTheDeadline(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.IgnoreExit)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	wantDriverErr(t, p.Close(ctx), "did not exit within 3", "killed")
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("close took %v", el)
	}
	if alive(p.PID()) {
		t.Errorf("pid %d not reaped", p.PID())
	}
}

func TestCloseTakesTheDriversChildren(t *testing.T) {
	var ev events
	p := startFake(t, &ev, nil, "-mode", stdiotest.IgnoreExit, "-child")
	var child int
	re := regexp.MustCompile(`child pid (\d+)`)
	for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		s, _ := p.tail.tail()
		if m := re.FindStringSubmatch(s); m != nil {
			child, _ = strconv.Atoi(m[1])
		}
	}
	if child == 0 {
		t.Fatal("the fake did not report its child")
	}
	if !alive(child) {
		t.Fatal("the child should be running before Close")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = p.Close(ctx)
	assertGone(t, child)
}

func TestStderrTailIsBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Factory([]string{"sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line $i >&2; i=$((i+1)); done; echo tail-end >&2; exit 1"},
		StderrTail(64))(ctx, func(driver.Event) {})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %v", err)
	}
	if len(e.Stderr) > 64 || !e.Dropped || !strings.HasSuffix(e.Stderr, "tail-end\n") {
		t.Errorf("stderr tail %q (dropped %v): want the last 64 bytes", e.Stderr, e.Dropped)
	}
}

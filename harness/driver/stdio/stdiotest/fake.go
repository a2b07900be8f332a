// Package stdiotest is a fake driver program for tests of the stdio driver
// and of the harness around it: well-behaved, or broken in one chosen way
// (crashes, hangs, garbage, replies to unknown ids, hostile names). A test
// binary serves it from its TestMain when its first argument is Arg, so the
// harness starts it as an ordinary argv:
//
//	func TestMain(m *testing.M) {
//		if len(os.Args) > 1 && os.Args[1] == stdiotest.Arg {
//			os.Exit(stdiotest.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
//		}
//		os.Exit(m.Run())
//	}
//
// and a test's driver command is []string{os.Args[0], stdiotest.Arg, "-mode", "hang"}.
package stdiotest

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// Arg is the first argument that makes a test binary the fake driver.
const Arg = "fake-driver"

// Modes of misbehaviour.
const (
	Good       = "good"        // replies ok to every op (or the -refuse text)
	Crash      = "crash"       // after -after ops replied, the next op makes it print a panic on stderr and exit 2
	Die        = "die"         // exits 3 (with a note on stderr) -delay after its -after'th reply, no op pending
	Hang       = "hang"        // reads ops and never replies
	Deaf       = "deaf"        // says hello and never reads its stdin
	Garbage    = "garbage"     // answers the op after -after ops with a line that is not JSON
	UnknownID  = "unknown-id"  // answers the op after -after ops with a reply to another id
	NoHello    = "no-hello"    // never says hello (sleeps)
	BadHello   = "bad-hello"   // an event first instead of the hello
	IgnoreExit = "ignore-exit" // good, but neither exit nor EOF on stdin ends it
	Slow       = "slow"        // good, but each reply comes -delay late
)

// Main runs the fake driver; args are its flags. It returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(Arg, flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", Good, "misbehaviour")
	sdk := fs.String("sdk", "fake-sdk", "the hello's sdk name")
	features := fs.String("features", driver.FeatReconnect, "comma-separated features")
	after := fs.Int("after", 0, "ops answered normally before the misbehaviour")
	delay := fs.Duration("delay", 100*time.Millisecond, "die: how long after the last reply")
	refuse := fs.String("refuse", "", "answer ops ok:false with this error text")
	child := fs.Bool("child", false, "start a grandchild (sleep 300) first and print its pid on stderr")
	garbage := fs.String("garbage", "this is not JSON <script>alert(1)</script>", "garbage: the line written")
	helloDelay := fs.Duration("hello-delay", 0, "wait this long before the hello (a slow-starting runtime)")
	announce := fs.Bool("announce", false, "after the hello, an error event naming $FAULTLINE_DRIVER (which client it was started for)")
	silent := fs.String("silent-driver", "", "the driver whose $FAULTLINE_DRIVER is this never says hello (no-hello mode for that one only)")
	sessions := fs.Int("sessions", 0, "declare this many sessions per process in the hello (0: leave it out); events then carry their op's client")
	evClient := fs.String("event-client", "", `multi-session: the client the connect's state event names instead of its op's ("none": no client)`)
	only := fs.Int("only-client", -1, "misbehave only on ops for this client (-1: every op); -after counts that client's ops")
	if err := fs.Parse(args); err != nil {
		return 64
	}
	fmt.Fprintf(stderr, "fake driver %s starting (pid %d)\n", *mode, os.Getpid())
	if *child {
		c := exec.Command("sleep", "300")
		if err := c.Start(); err != nil {
			fmt.Fprintf(stderr, "child: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "child pid %d\n", c.Process.Pid)
	}
	out := json.NewEncoder(stdout)
	if *silent != "" && os.Getenv("FAULTLINE_DRIVER") == *silent {
		*mode = NoHello
	}
	switch *mode {
	case NoHello:
		time.Sleep(time.Hour)
		return 0
	case BadHello:
		_ = out.Encode(driver.Event{Type: driver.EvState, To: driver.Connecting})
		time.Sleep(time.Hour)
		return 0
	}
	feats := []string{}
	if *features != "" {
		feats = strings.Split(*features, ",")
	}
	time.Sleep(*helloDelay)
	_ = out.Encode(driver.Hello{SDK: *sdk, Version: "0.0.1-test", Features: feats, Sessions: *sessions})
	if *announce && *sessions == 0 { // a multi-session fake announces each client at its connect
		_ = out.Encode(driver.Event{Type: driver.EvError, Text: "FAULTLINE_DRIVER=" + os.Getenv("FAULTLINE_DRIVER")})
	}
	if *mode == Deaf {
		time.Sleep(time.Hour)
		return 0
	}
	sc := bufio.NewScanner(stdin)
	answered := 0
	for sc.Scan() {
		var op driver.Op
		if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
			fmt.Fprintf(stderr, "bad op line %q\n", sc.Text())
			continue
		}
		if op.Op == driver.OpExit && *mode != IgnoreExit {
			_ = out.Encode(driver.Reply{Re: op.ID, OK: true})
			return 0
		}
		if op.Op == driver.OpProbe { // the harness's lag probe: never counted among the ops; a hung fake hangs it too
			if *mode != Hang || answered < *after {
				_ = out.Encode(driver.Reply{Re: op.ID, OK: true})
			}
			continue
		}
		mine := *only < 0 || (op.Client != nil && *op.Client == *only)
		if answered >= *after && mine {
			switch *mode {
			case Crash:
				fmt.Fprintf(stderr, "panic: fake crash on op %d %s\n\ngoroutine 1 [running]:\nmain.main()\n", op.ID, op.Op)
				return 2
			case Hang:
				continue
			case Garbage:
				fmt.Fprintln(stdout, *garbage)
				continue
			case UnknownID:
				_ = out.Encode(driver.Reply{Re: op.ID + 1000, OK: true})
				continue
			}
		}
		if *mode == Slow {
			time.Sleep(*delay)
		}
		if op.Op == driver.OpConnect && *sessions > 0 && *announce {
			_ = out.Encode(driver.Event{Type: driver.EvError, Client: eventClient(op, *evClient),
				Text: fmt.Sprintf("connect driver=%d seed=%d pid=%d", op.Driver, deref(op.Seed), os.Getpid())})
		}
		if op.Op == driver.OpConnect && *refuse == "" {
			// A well-formed lifecycle (U1): into CONNECTING first, then on.
			_ = out.Encode(driver.Event{Type: driver.EvState, To: driver.Connecting, Client: eventClient(op, *evClient)})
			_ = out.Encode(driver.Event{Type: driver.EvState, From: driver.Connecting, To: driver.ConnectedActive, Session: "fake",
				Client: eventClient(op, *evClient)})
		}
		_ = out.Encode(driver.Reply{Re: op.ID, OK: *refuse == "", Error: *refuse})
		if mine {
			answered++
		}
		if *mode == Die && answered == *after {
			time.Sleep(*delay)
			fmt.Fprintln(stderr, "fatal error: fake sudden death")
			return 3
		}
	}
	if *mode == IgnoreExit {
		time.Sleep(time.Hour)
	}
	return 0
}

// eventClient is the client an op's event names: the op's, or as -event-client says.
func eventClient(op driver.Op, override string) *int {
	switch override {
	case "":
		return op.Client
	case "none":
		return nil
	}
	var k int
	_, _ = fmt.Sscan(override, &k)
	return &k
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

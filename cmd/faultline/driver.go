package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/stdio"
)

// defaultSessions is how many sessions one `faultline driver` process hosts
// unless told: a thousand clients take 10 processes, not 1,000. Not one
// process for all: every event crosses one pipe and one harness reader
// (~15 µs a line), and the Go engine fails 1,000 clients over at once;
// measured on scale-thousand (2 cores), one process stamped some walks
// 10-65 ms after the server saw the session they made (F1, F3 FAILED
// against a 10 ms stamp slack), 10 processes at worst 2.8 ms before it.
const defaultSessions = 100

const driverUsage = "usage: faultline driver [--seed N] [--n K] [--sessions S]"

// cmdDriver serves the Go engine as a stdio driver: the reference for what
// other SDKs' drivers do. stdout carries the protocol and nothing else.
func cmdDriver(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("driver", stderr) // flags.go
	seed := fs.Int64("seed", envInt("FAULTLINE_SEED", 1), "seed for jitter and shuffles (default: $FAULTLINE_SEED, else 1); a connect op's \"seed\" overrides it for its client")
	nth := fs.Int64("n", envInt("FAULTLINE_DRIVER", 1), "which driver of the run this is, from 1 (default: $FAULTLINE_DRIVER, else 1); a connect op's \"driver\" overrides it for its client")
	sessions := fs.Int("sessions", defaultSessions, "sessions one process hosts (the hello's \"sessions\"); 1: one session per process, no client fields")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 || *nth < 1 || *sessions < 1 {
		fmt.Fprintln(stderr, driverUsage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *sessions == 1 {
		err = serveOne(ctx, *seed, *nth, stdin, stdout, stderr)
	} else {
		hello := godriver.Hello()
		hello.Sessions = *sessions
		// Each client's engine draws the stream its own one-session process
		// would: the number and seed its connect names (what a process of its
		// own reads from its environment), else this process's.
		open := func(op driver.Op, sink driver.Sink) (driver.Driver, error) {
			s, n := *seed, *nth
			if op.Seed != nil {
				s = *op.Seed
			}
			if op.Driver > 0 {
				n = op.Driver
			} else if op.Client != nil {
				n = int64(*op.Client) + 1
			}
			return godriver.New(s, n, sink), nil
		}
		err = stdio.ServeSessions(ctx, hello, open, stdin, stdout, stderr, 5*time.Second)
	}
	if err != nil {
		fmt.Fprintf(stderr, "faultline driver: %v\n", err)
		return 1
	}
	return 0
}

// serveOne is the one-session driver (--sessions 1), as before sessions.
func serveOne(ctx context.Context, seed, nth int64, stdin io.Reader, stdout, stderr io.Writer) error {
	// The in-process run gives its k-th driver the factory's k-th random
	// stream; New(seed, k) is that stream, so --seed means the same in both
	// modes.
	f := func(_ context.Context, sink driver.Sink) (driver.Driver, error) {
		return godriver.New(seed, nth, sink), nil
	}
	return stdio.Serve(ctx, f, stdin, stdout, stderr, 5*time.Second)
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

func init() {
	register(&command{name: "driver", summary: "run the Go engine as a stdio driver (for testing the driver protocol)", flags: true,
		usage: strings.TrimPrefix(driverUsage, "usage: ") + `

Speaks the driver protocol on stdin and stdout (stdout carries the protocol
only; logs go to stderr): faultline run --sdk "bin/faultline driver".`,
		run: func(args []string, stdout, stderr io.Writer) int { return cmdDriver(args, os.Stdin, stdout, stderr) }})
}

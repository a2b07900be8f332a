package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/stdio"
)

// cmdDriver serves the Go engine as a stdio driver: the reference for what
// other SDKs' drivers do. stdout carries the protocol and nothing else.
func cmdDriver(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("driver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Int64("seed", envInt("FAULTLINE_SEED", 1), "seed for jitter and shuffles (default: $FAULTLINE_SEED, else 1)")
	nth := fs.Int64("n", envInt("FAULTLINE_DRIVER", 1), "which driver of the run this is, from 1 (default: $FAULTLINE_DRIVER, else 1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *nth < 1 {
		fmt.Fprintln(stderr, "usage: faultline driver [--seed N] [--n K]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The in-process run gives its k-th driver the factory's k-th random
	// stream; skipping k−1 gives this process the same one, so --seed means
	// the same in both modes (the skipped drivers hold nothing).
	f := godriver.Factory(*seed)
	for i := int64(1); i < *nth; i++ {
		if _, err := f(ctx, func(driver.Event) {}); err != nil {
			fmt.Fprintf(stderr, "faultline driver: %v\n", err)
			return 1
		}
	}
	if err := stdio.Serve(ctx, f, stdin, stdout, stderr, 5*time.Second); err != nil {
		fmt.Fprintf(stderr, "faultline driver: %v\n", err)
		return 1
	}
	return 0
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

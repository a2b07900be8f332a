package selftest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/driver/stdio"
	"github.com/faultline/faultline/harness/driver/stdio/stdiotest"
)

// argGo makes this test binary the Go engine's stdio driver (what
// `faultline driver` serves), hosting as many sessions as its next
// argument says; stdiotest.Arg makes it the fake driver with its faults.
const argGo = "selftest-go-driver"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == argGo {
		os.Exit(serveGo(os.Args[2]))
	}
	if len(os.Args) > 1 && os.Args[1] == stdiotest.Arg {
		os.Exit(stdiotest.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	// Drivers are this test binary: under -race each would sleep 1 s at
	// exit (the race runtime's atexit_sleep_ms) and look slow to exit.
	_ = os.Setenv("GORACE", "atexit_sleep_ms=0")
	os.Exit(m.Run())
}

func serveGo(sessions string) int {
	var err error
	ctx := context.Background()
	if sessions == "1" {
		err = stdio.Serve(ctx, func(_ context.Context, sink driver.Sink) (driver.Driver, error) {
			return godriver.New(1, 1, sink), nil
		}, os.Stdin, os.Stdout, os.Stderr, 5*time.Second)
	} else {
		h := godriver.Hello()
		_, _ = fmt.Sscan(sessions, &h.Sessions)
		err = stdio.ServeSessions(ctx, h, func(op driver.Op, sink driver.Sink) (driver.Driver, error) {
			return godriver.New(1, int64(*op.Client)+1, sink), nil
		}, os.Stdin, os.Stdout, os.Stderr, 5*time.Second)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

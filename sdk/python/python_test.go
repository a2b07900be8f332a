// Package pythonsdk_test runs the Python SDK's own tests (unittest over
// sdk/python/tests/, with /usr/bin/python3, the interpreter the SDK targets)
// under `go test ./...`, so one command covers every engine. Without that
// interpreter it skips, saying so.
package pythonsdk_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

const python = "/usr/bin/python3"

func TestPythonSDK(t *testing.T) {
	if _, err := exec.LookPath(python); err != nil {
		t.Skipf("%s not found: the Python SDK's tests (%s -m unittest discover -s sdk/python) were not run", python, python)
	}
	// Bounded: the suite takes seconds; a hang must fail, not stall go test.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The package directory is sdk/python: discover from there; -B leaves no
	// __pycache__ behind.
	cmd := exec.CommandContext(ctx, python, "-B", "-m", "unittest", "discover", "-s", ".")
	cmd.WaitDelay = 5 * time.Second // pipes held by a stray grandchild must not hang Wait
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || ctx.Err() != nil {
			t.Fatalf("unittest failed (%v, %v):\n%s", err, ctx.Err(), out.String())
		}
		t.Fatalf("cannot run %s: %v", python, err)
	}
	// unittest closes with "Ran N tests in Xs" and "OK": a run that tested
	// nothing must not pass.
	m := regexp.MustCompile(`Ran (\d+) tests? in`).FindStringSubmatch(out.String())
	if m == nil || m[1] == "0" {
		t.Fatalf("unittest passed but ran no tests:\n%s", out.String())
	}
	t.Logf("python unittest: ran %s tests, OK", m[1])
}

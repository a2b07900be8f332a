// Package nodesdk_test runs the Node SDK's own tests (node's built-in test
// runner over sdk/node/test/) under `go test ./...`, so one command covers
// both engines. Without a node binary on PATH it skips, saying so.
package nodesdk_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestNodeSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found on PATH: the Node SDK's tests (node --test sdk/node/test/) were not run")
	}
	// Bounded: the suite takes seconds; a hang must fail, not stall go test.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The package directory is sdk/node: run from there. TAP is the reporter
	// whatever the terminal, so the summary lines below are always there.
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=tap", "test/")
	cmd.WaitDelay = 5 * time.Second // pipes held by a stray grandchild must not hang Wait
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	summary := closingLines(out.String())
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || ctx.Err() != nil {
			t.Fatalf("node --test test/ failed (%v, %v):\n%s", err, ctx.Err(), out.String())
		}
		t.Fatalf("cannot run %s: %v", node, err)
	}
	if summary == "" {
		t.Fatalf("node --test test/ passed but printed no summary:\n%s", out.String())
	}
	t.Logf("node --test test/: %s", summary)
}

// closingLines picks the runner's closing summary ("# tests 36", "# pass
// 36", "# fail 0", …) and renders it as one plain line. The last of each
// wins: the summary closes the output.
func closingLines(tap string) string {
	keys := []string{"tests", "pass", "fail", "cancelled", "skipped", "todo"}
	last := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(tap))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		for _, k := range keys {
			if strings.HasPrefix(l, "# "+k+" ") {
				last[k] = strings.TrimPrefix(l, "# ")
			}
		}
	}
	var parts []string
	for _, k := range keys {
		if v, ok := last[k]; ok {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ", ")
}

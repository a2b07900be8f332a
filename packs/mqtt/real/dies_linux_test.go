package real

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// TestDiesWithTheHarness: a harness killed outright (no Close) takes its
// mosquitto with it (the parent-death signal).
func TestDiesWithTheHarness(t *testing.T) {
	if os.Getenv("FAULTLINE_MOSQUITTO_CHILD") == "1" {
		s, err := Start("child", history.Nop{}, Options{})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("pid", s.inc.p.cmd.Process.Pid)
		time.Sleep(time.Minute) // killed long before
		os.Exit(1)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestDiesWithTheHarness$", "-test.count=1")
	child.Env = append(os.Environ(), "FAULTLINE_MOSQUITTO_CHILD=1")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "pid ") || strings.HasPrefix(sc.Text(), "error ") {
				line <- sc.Text()
				break
			}
		}
		close(line)
	}()
	var pid int
	select {
	case l := <-line:
		n, err := strconv.Atoi(strings.TrimPrefix(l, "pid "))
		if err != nil {
			_ = child.Process.Kill()
			_ = child.Wait()
			t.Fatalf("child: %q", l)
		}
		pid = n
	case <-time.After(wait):
		_ = child.Process.Kill()
		_ = child.Wait()
		t.Fatal("the child did not start its broker")
	}
	_ = child.Process.Kill() // SIGKILL: no Close, no cleanup
	_ = child.Wait()
	deadline := time.Now().Add(wait)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("mosquitto %d outlived the harness", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

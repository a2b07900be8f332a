package faultline_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/goleak"
)

// What a scenario must give back when it ends (checked after each scenario
// in suite_test.go): every goroutine it started, every port it listened on,
// every process it started. Teardown is bounded, not instant (sockets close
// and goroutines return just after Run), so each check waits up to
// leakWait for things to settle before it calls something a leak.
const leakWait = 5 * time.Second

// leakBaseline is what was running before a scenario.
type leakBaseline struct {
	goroutines goleak.Option
	listening  map[string]bool
	children   map[int]bool
}

func takeBaseline() leakBaseline {
	return leakBaseline{goroutines: goleak.IgnoreCurrent(), listening: listeningSockets(), children: childProcesses()}
}

// Under the ginkgo CLI each node's output is intercepted by two goroutines
// of Ginkgo's that live while the node runs, the AfterAll included (and a
// pipe factory, from the first node on): the suite's, not the scenario's.
var ginkgoGoroutines = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal.(*genericOutputInterceptor).ResumeIntercepting.func1"),
	goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal.(*genericOutputInterceptor).ResumeIntercepting.func1.1"),
	goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal.startPipeFactory"),
}

// leaks waits (bounded) for the process to be back to the baseline, and says
// what is left: goroutines with their stacks, listening ports, processes.
func (b leakBaseline) leaks() string {
	deadline := time.Now().Add(leakWait)
	for {
		var out []string
		if err := goleak.Find(append([]goleak.Option{b.goroutines}, ginkgoGoroutines...)...); err != nil {
			out = append(out, err.Error())
		}
		for _, l := range sortedKeys(listeningSockets()) {
			if !b.listening[l] {
				out = append(out, "still listening: "+l)
			}
		}
		for pid, what := range childProcessNames() {
			if !b.children[pid] {
				out = append(out, fmt.Sprintf("process still running: pid %d %s", pid, what))
			}
		}
		if len(out) == 0 || time.Now().After(deadline) {
			return strings.Join(out, "\n")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// listeningSockets is this process's TCP sockets in LISTEN state, as
// "addr:port (inode N)": /proc/self/net/tcp{,6} lists the whole network
// namespace, /proc/self/fd says which sockets are ours.
func listeningSockets() map[string]bool {
	ours := map[string]bool{}
	fds, _ := filepath.Glob("/proc/self/fd/*")
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			ours[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	out := map[string]bool{}
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			const listen = "0A"
			if len(fs) < 10 || fs[3] != listen || !ours[fs[9]] {
				continue
			}
			out[hexAddr(fs[1])+" (inode "+fs[9]+")"] = true
		}
		f.Close()
	}
	return out
}

// hexAddr renders /proc/net/tcp's "0100007F:1F90" as "127.0.0.1:8080"
// (IPv4; IPv6 stays in hex, with its port).
func hexAddr(s string) string {
	ip, port, _ := strings.Cut(s, ":")
	p, _ := strconv.ParseUint(port, 16, 16)
	if len(ip) == 8 {
		v, _ := strconv.ParseUint(ip, 16, 32)
		return fmt.Sprintf("%d.%d.%d.%d:%d", v&0xff, v>>8&0xff, v>>16&0xff, v>>24, p)
	}
	return fmt.Sprintf("[%s]:%d", ip, p)
}

// childProcessNames is every live descendant of this process (zombies too:
// a child nobody reaped is a leak) with its command name and state.
func childProcessNames() map[int]string {
	parent := map[int]int{}
	name := map[int]string{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue // gone meanwhile
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fs := strings.Fields(s[close+1:]) // state, ppid, …
		pid, err1 := strconv.Atoi(strings.TrimSpace(s[:open]))
		ppid, err2 := strconv.Atoi(fs[1])
		if err1 != nil || err2 != nil {
			continue
		}
		parent[pid] = ppid
		name[pid] = s[open+1:close] + " (state " + fs[0] + ")"
	}
	self := os.Getpid()
	out := map[int]string{}
	for pid := range parent {
		for p, hops := parent[pid], 0; p != 0 && hops < 64; p, hops = parent[p], hops+1 {
			if p == self {
				out[pid] = name[pid]
				break
			}
		}
	}
	return out
}

func childProcesses() map[int]bool {
	out := map[int]bool{}
	for pid := range childProcessNames() {
		out[pid] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

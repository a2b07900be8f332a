// Command benchreport runs faultline's benchmarks of itself (./bench) and,
// with -suite, times the conformance suite, then prints one table of the
// numbers and ratios, all from this one run (`make bench`):
//
//	loss observation p50/p99 per verb, window error p50/p99 (./bench)
//	proxied throughput as a ratio to direct loopback (./bench)
//	memory and goroutines per session at 1,000 sessions (./bench)
//	suite wall time (serial) as a ratio to the sum of its scheduled waits
//	suite wall time under ginkgo -p as a ratio to serial
//
// Run from the module root.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/runner"
)

func main() {
	benchtime := flag.String("benchtime", "50x", "go test -benchtime for the latency and throughput benchmarks")
	suite := flag.Bool("suite", true, "also time the conformance suite, serial and with ginkgo -p")
	procs := flag.Int("procs", 2, "ginkgo -p processes")
	race := flag.Bool("race", false, "build the suite with -race (as make test runs it)")
	flag.Parse()
	if err := run(*benchtime, *suite, *procs, *race); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(benchtime string, suite bool, procs int, race bool) error {
	var out bytes.Buffer
	// The session benchmark's iteration is 1,000 sessions: once is enough.
	for _, b := range [][2]string{{"LossObserved|WindowError|ProxiedThroughput", benchtime}, {"Sessions", "1x"}} {
		if err := command(io.MultiWriter(os.Stdout, &out), "go", "test", "./bench/", "-run", "^$", "-bench", b[0], "-benchtime", b[1]); err != nil {
			return err
		}
	}
	m := parseBench(out.String())
	var rows [][]string
	add := func(cells ...string) { rows = append(rows, cells) }
	for _, verb := range []string{"reset", "cut", "blackhole"} {
		k := "LossObserved/" + verb
		add("loss observed: "+verb, ms(m[k]["p50-ms"])+" p50", ms(m[k]["p99-ms"])+" p99", "fault step → engine RECOVERING_RECONNECT")
	}
	add("window error", ms(m["WindowError"]["err-p50-ms"])+" p50", ms(m["WindowError"]["abserr-p99-ms"])+" |p99|", "history's reconnect window − independent tap's")
	tp := m["ProxiedThroughput"]
	add("proxied throughput", fmt.Sprintf("%.0f MiB/s", tp["proxied-MiB/s"]), fmt.Sprintf("%.0f MiB/s direct", tp["direct-MiB/s"]),
		fmt.Sprintf("ratio %.2f (embedded Toxiproxy link / direct loopback)", tp["proxied/direct"]))
	ss := m["Sessions"]
	add("per session (1,000)", fmt.Sprintf("%.0f KiB heap", ss["heap-KiB/session"]), fmt.Sprintf("%.0f KiB RSS", ss["rss-KiB/session"]),
		fmt.Sprintf("%.0f goroutines; all connected in %.2fs", ss["goroutines/session"], ss["connect-s"]))
	if suite {
		if err := timeSuite(procs, race, add); err != nil {
			return err
		}
	}
	fmt.Println()
	fmt.Println("faultline benchmarks (one run)")
	printTable(os.Stdout, rows)
	return nil
}

// timeSuite runs the precompiled suite serially and with ginkgo -p (the
// binary lives in the module root: ginkgo runs a precompiled suite in its
// own folder, where scenarios/ is), and relates both to the scenarios'
// scheduled time.
func timeSuite(procs int, race bool, add func(...string)) error {
	scs, err := runner.Load("scenarios")
	if err != nil {
		return err
	}
	var waits time.Duration
	for _, sc := range scs {
		waits += sc.End()
	}
	const bin = "benchsuite.test"
	args := []string{"test", "-c", "-o", bin, "."}
	if race {
		args = append(args, "-race")
	}
	if err := command(os.Stderr, "go", args...); err != nil {
		return err
	}
	defer os.Remove(bin)
	serial, err := timed("go", "tool", "ginkgo", "--procs", "1", "./"+bin)
	if err != nil {
		return err
	}
	par, err := timed("go", "tool", "ginkgo", "-p", "--procs", strconv.Itoa(procs), "./"+bin)
	if err != nil {
		return err
	}
	mode := ""
	if race {
		mode = " (-race)"
	}
	add("suite, serial"+mode, secs(serial), secs(waits)+" scheduled",
		fmt.Sprintf("ratio %.2f (wall / sum of %d scenarios' End())", serial.Seconds()/waits.Seconds(), len(scs)))
	add(fmt.Sprintf("suite, ginkgo -p %d", procs)+mode, secs(par), secs(serial)+" serial", fmt.Sprintf("ratio %.2f (parallel / serial)", par.Seconds()/serial.Seconds()))
	return nil
}

func timed(name string, args ...string) (time.Duration, error) {
	start := time.Now()
	err := command(os.Stderr, name, args...)
	return time.Since(start), err
}

func command(w io.Writer, name string, args ...string) error {
	fmt.Fprintln(os.Stderr, "+", name, strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// parseBench reads `go test -bench` lines: name, iterations, then value-unit
// pairs. Names lose their Benchmark prefix and -GOMAXPROCS suffix.
func parseBench(s string) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		vals := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				vals[f[i+1]] = v
			}
		}
		out[name] = vals
	}
	return out
}

func ms(v float64) string { return fmt.Sprintf("%.2f ms", v) }

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func printTable(w io.Writer, rows [][]string) {
	width := make([]int, 4)
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		line := ""
		for i, c := range r {
			line += fmt.Sprintf("  %-*s", width[i], c)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

func parseShard(t *testing.T, spec string, env map[string]string) (*shardSpec, error) {
	t.Helper()
	s := &shardSpec{getenv: func(k string) string { return env[k] }}
	return s, s.Set(spec)
}

func TestShardSpecs(t *testing.T) {
	for _, c := range []struct {
		spec string
		env  map[string]string
		i, n int
	}{
		{"1/1", nil, 1, 1},
		{"2/3", nil, 2, 3},
		{" 3/3 ", nil, 3, 3},
		{"auto/3", map[string]string{"JOB_COMPLETION_INDEX": "0"}, 1, 3},
		{"auto/3", map[string]string{"JOB_COMPLETION_INDEX": "2"}, 3, 3},
		// faultline's own variable wins over Kubernetes'.
		{"auto/3", map[string]string{"FAULTLINE_SHARD_INDEX": "1", "JOB_COMPLETION_INDEX": "0"}, 2, 3},
	} {
		s, err := parseShard(t, c.spec, c.env)
		if err != nil {
			t.Errorf("%q %v: %v", c.spec, c.env, err)
			continue
		}
		if s.i != c.i || s.n != c.n {
			t.Errorf("%q %v: shard %d/%d, want %d/%d", c.spec, c.env, s.i, s.n, c.i, c.n)
		}
	}
}

func TestBadShardSpecsAreErrors(t *testing.T) {
	for _, c := range []struct {
		spec string
		env  map[string]string
		want string
	}{
		{"0/3", nil, "from 1 to 3"},
		{"4/3", nil, "from 1 to 3"},
		{"-1/3", nil, "from 1 to 3"},
		{"a/b", nil, "number of shards"},
		{"1/0", nil, "number of shards"},
		{"3", nil, "not i/n"},
		{"", nil, "not i/n"},
		{"auto/3", nil, "neither is set"},
		{"auto/3", map[string]string{"JOB_COMPLETION_INDEX": "3"}, "below 3"},
		{"auto/3", map[string]string{"FAULTLINE_SHARD_INDEX": "x"}, "FAULTLINE_SHARD_INDEX"},
	} {
		_, err := parseShard(t, c.spec, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %v: error %v, want one saying %q", c.spec, c.env, err, c.want)
		}
	}
}

// A bad --shard is bad input: exit 2 before anything runs, for run and list.
func TestBadShardExitsTwo(t *testing.T) {
	t.Setenv("FAULTLINE_SHARD_INDEX", "")
	t.Setenv("JOB_COMPLETION_INDEX", "")
	for _, cmd := range []string{"run", "list"} {
		for _, spec := range []string{"0/3", "4/3", "a/b", "auto/3"} {
			var out, errb bytes.Buffer
			code := Main([]string{cmd, "--scenarios", "../../scenarios/reconnect", "--report", t.TempDir(), "--shard", spec}, &out, &errb)
			if cmd == "list" { // list has no --report
				out.Reset()
				errb.Reset()
				code = Main([]string{cmd, "--scenarios", "../../scenarios/reconnect", "--shard", spec}, &out, &errb)
			}
			if code != 2 || !strings.Contains(errb.String(), "shard") {
				t.Errorf("%s --shard %s: exit %d, want 2 with a word on --shard; stdout:\n%s\nstderr:\n%s", cmd, spec, code, out.String(), errb.String())
			}
			if strings.Contains(out.String(), "report.json") {
				t.Errorf("%s --shard %s wrote a report", cmd, spec)
			}
		}
	}
}

// The shards of `faultline list --shard i/n` together list each selected
// scenario exactly once.
func TestListShardsCoverTheSelection(t *testing.T) {
	list := func(args ...string) []string {
		var out, errb bytes.Buffer
		if code := Main(append([]string{"list", "--scenarios", "../../scenarios", "--label", "!scale"}, args...), &out, &errb); code != 0 {
			t.Fatalf("list %v: exit %d\n%s", args, code, errb.String())
		}
		var names []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			names = append(names, strings.Fields(l)[0])
		}
		return names
	}
	whole := list()
	seen := map[string]int{}
	for i := 1; i <= 3; i++ {
		part := list("--shard", fmt.Sprintf("%d/3", i))
		if len(part) == 0 || len(part) == len(whole) {
			t.Errorf("shard %d/3 lists %d of %d scenarios", i, len(part), len(whole))
		}
		for _, n := range part {
			seen[n]++
		}
	}
	for _, n := range whole {
		if seen[n] != 1 {
			t.Errorf("%s is in %d shards, want 1", n, seen[n])
		}
		delete(seen, n)
	}
	if len(seen) > 0 {
		t.Errorf("shards list scenarios the whole selection does not: %v", seen)
	}
}

// checkPartition is what every partition must be: each scenario in exactly
// one shard, in the given order; each protocol's shares within its
// costliest scenario of each other, and the shards overall within the sum
// of those (partition's bound).
func checkPartition(scs []*scenario.Scenario, shards [][]*scenario.Scenario, n int) error {
	if len(shards) != n {
		return fmt.Errorf("%d shards, want %d", len(shards), n)
	}
	pos := map[*scenario.Scenario]int{}
	maxCost := map[string]time.Duration{}
	for i, sc := range scs {
		pos[sc] = i
		p := protocolOf(sc)
		maxCost[p] = max(maxCost[p], scenarioCost(sc))
	}
	var bound time.Duration
	for _, c := range maxCost {
		bound += c
	}
	seen := map[*scenario.Scenario]int{}
	loads := map[string][]time.Duration{} // by protocol
	for p := range maxCost {
		loads[p] = make([]time.Duration, n)
	}
	total := make([]time.Duration, n)
	for j, sh := range shards {
		last := -1
		for _, sc := range sh {
			p, ok := pos[sc]
			if !ok {
				return fmt.Errorf("shard %d holds %s, which is not in the set", j+1, sc.Name)
			}
			if p < last {
				return fmt.Errorf("shard %d is out of the given order at %s", j+1, sc.Name)
			}
			last = p
			seen[sc]++
			loads[protocolOf(sc)][j] += scenarioCost(sc)
			total[j] += scenarioCost(sc)
		}
	}
	for _, sc := range scs {
		if seen[sc] != 1 {
			return fmt.Errorf("%s is in %d shards, want 1", sc.Name, seen[sc])
		}
	}
	spread := func(l []time.Duration) (lo, hi time.Duration) {
		lo, hi = l[0], l[0]
		for _, x := range l {
			lo, hi = min(lo, x), max(hi, x)
		}
		return lo, hi
	}
	for p, c := range maxCost {
		if lo, hi := spread(loads[p]); hi-lo > c {
			return fmt.Errorf("protocol %q: loads from %v to %v: spread %v exceeds its costliest scenario's %v", p, lo, hi, hi-lo, c)
		}
	}
	if lo, hi := spread(total); hi-lo > bound {
		return fmt.Errorf("loads from %v to %v: spread %v exceeds %v", lo, hi, hi-lo, bound)
	}
	return nil
}

func names(shards [][]*scenario.Scenario) string {
	var b strings.Builder
	for _, sh := range shards {
		for _, sc := range sh {
			b.WriteString(sc.Name + " ")
		}
		b.WriteString("| ")
	}
	return b.String()
}

func TestPartitionOfTheShippedScenarios(t *testing.T) {
	scs, err := runner.Load("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 8; n++ {
		shards := partition(scs, n)
		if err := checkPartition(scs, shards, n); err != nil {
			t.Errorf("%d shards: %v", n, err)
		}
		// The same set in any order gives the same shards.
		rnd := rand.New(rand.NewSource(int64(n)))
		for range 5 {
			mixed := append([]*scenario.Scenario(nil), scs...)
			rnd.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
			got := partition(mixed, n)
			for j := range got { // compare as sets per shard: each keeps its input's order
				if a, b := sortedNames(got[j]), sortedNames(shards[j]); a != b {
					t.Fatalf("%d shards: shard %d differs with the input shuffled:\n%s\nwant\n%s", n, j+1, a, b)
				}
			}
		}
		if n == 3 {
			t.Logf("3 shards of %d scenarios: %s", len(scs), loads(shards))
		}
	}
}

func sortedNames(sh []*scenario.Scenario) string {
	ns := make([]string, len(sh))
	for i, sc := range sh {
		ns[i] = sc.Name
	}
	for i := range ns { // insertion sort: no import for a test helper
		for j := i; j > 0 && ns[j] < ns[j-1]; j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
	return strings.Join(ns, " ")
}

func loads(shards [][]*scenario.Scenario) string {
	var parts []string
	for _, sh := range shards {
		var l time.Duration
		for _, sc := range sh {
			l += scenarioCost(sc)
		}
		parts = append(parts, fmt.Sprintf("%d scenario(s) %v", len(sh), l.Round(time.Second)))
	}
	return strings.Join(parts, ", ")
}

// Random sets, among them ties of cost and more shards than scenarios.
func TestPartitionOfRandomSets(t *testing.T) {
	rnd := rand.New(rand.NewSource(7))
	for trial := range 300 {
		k := rnd.Intn(40)
		scs := make([]*scenario.Scenario, k)
		for i := range scs {
			scs[i] = &scenario.Scenario{Name: fmt.Sprintf("s%03d", i),
				Duration: time.Duration(1+rnd.Intn(6)) * 5 * time.Second, Clients: 1 + rnd.Intn(3)*rnd.Intn(500)}
		}
		n := 1 + rnd.Intn(10)
		if err := checkPartition(scs, partition(scs, n), n); err != nil {
			t.Fatalf("trial %d, %d scenarios in %d shards: %v", trial, k, n, err)
		}
	}
}

// The check above must catch what a wrong partition does.
func TestCheckPartitionCatchesBadPartitions(t *testing.T) {
	mk := func(name string, d time.Duration) *scenario.Scenario {
		return &scenario.Scenario{Name: name, Duration: d, Clients: 1}
	}
	a, b, c, d := mk("a", 10*time.Second), mk("b", 10*time.Second), mk("c", 10*time.Second), mk("d", 10*time.Second)
	scs := []*scenario.Scenario{a, b, c, d}
	for name, bad := range map[string][][]*scenario.Scenario{
		"dropped":    {{a, b}, {c}},
		"twice":      {{a, b}, {c, d, a}},
		"unbalanced": {{a, b, c}, {d}},
		"reordered":  {{b, a}, {c, d}},
		"foreign":    {{a, b}, {c, d, mk("e", time.Second)}},
		"too few":    {{a, b, c, d}},
	} {
		if err := checkPartition(scs, bad, 2); err == nil {
			t.Errorf("%s partition passed the check", name)
		}
	}
	if err := checkPartition(scs, [][]*scenario.Scenario{{a, b}, {c, d}}, 2); err != nil {
		t.Errorf("a good partition failed the check: %v", err)
	}
}

// The greedy balances by cost, not by count: one long scenario gets a shard
// to itself.
func TestPartitionBalancesByCost(t *testing.T) {
	long := &scenario.Scenario{Name: "long", Duration: time.Minute, Clients: 1}
	var scs []*scenario.Scenario
	for i := range 6 {
		scs = append(scs, &scenario.Scenario{Name: fmt.Sprintf("short%d", i), Duration: 10 * time.Second, Clients: 1})
	}
	scs = append(scs, long)
	shards := partition(scs, 2)
	if len(shards[0]) != 1 || shards[0][0] != long {
		t.Errorf("want the long scenario alone in shard 1: %s", names(shards))
	}
	// Clients cost start time: 10,000 clients over 30s outweigh one client
	// over 40s.
	big := &scenario.Scenario{Name: "big", Duration: 30 * time.Second, Clients: 10000}
	one := &scenario.Scenario{Name: "one", Duration: 40 * time.Second, Clients: 1}
	if scenarioCost(big) <= scenarioCost(one) {
		t.Errorf("10,000 clients over 30s cost %v, no more than 1 client over 40s (%v)", scenarioCost(big), scenarioCost(one))
	}
}

// An SDK runs only its protocol's scenarios: each protocol is balanced on
// its own, so that no shard gets all of one SDK's work.
func TestPartitionBalancesEachProtocol(t *testing.T) {
	mk := func(name, kind string, d time.Duration) *scenario.Scenario {
		return &scenario.Scenario{Name: name, Duration: d, Clients: 1,
			Servers: []scenario.Server{{Name: "s1", Kind: kind}}, Client: scenario.Client{Servers: []string{"s1"}}}
	}
	var scs []*scenario.Scenario
	for i := range 6 {
		scs = append(scs, mk(fmt.Sprintf("own%d", i), "session", 10*time.Second))
		scs = append(scs, mk(fmt.Sprintf("nats%d", i), "nats", 10*time.Second))
	}
	if protocolOf(scs[0]) == protocolOf(scs[1]) || protocolOf(scs[0]) == "" {
		t.Fatalf("protocols %q and %q", protocolOf(scs[0]), protocolOf(scs[1]))
	}
	shards := partition(scs, 3)
	if err := checkPartition(scs, shards, 3); err != nil {
		t.Fatal(err)
	}
	for j, sh := range shards {
		own := 0
		for _, sc := range sh {
			if strings.HasPrefix(sc.Name, "own") {
				own++
			}
		}
		if own != 2 || len(sh) != 4 {
			t.Errorf("shard %d: %d of its %d scenarios are the own protocol's, want 2 of 4: %s", j+1, own, len(sh), names(shards))
		}
	}
}

func TestPickSaysWhatItTook(t *testing.T) {
	scs := []*scenario.Scenario{{Name: "x", Duration: time.Second, Clients: 1}, {Name: "y", Duration: time.Second, Clients: 1}}
	var w bytes.Buffer
	s, err := parseShard(t, "auto/3", map[string]string{"JOB_COMPLETION_INDEX": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.pick(scs, &w); got != nil {
		t.Errorf("shard 3/3 of 2 scenarios took %d", len(got))
	}
	if !strings.Contains(w.String(), "shard 3/3 ($JOB_COMPLETION_INDEX=2) is empty") {
		t.Errorf("empty shard said %q", w.String())
	}
	var none shardSpec
	if got := none.pick(scs, io.Discard); len(got) != 2 {
		t.Errorf("no --shard kept %d of 2", len(got))
	}
}

// addShardFlag's flag parses like any other.
func TestShardFlagParses(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := addShardFlag(fs)
	if err := fs.Parse([]string{"--shard", "2/5"}); err != nil || s.String() != "2/5" {
		t.Errorf("--shard 2/5: %v, %q", err, s.String())
	}
	if err := fs.Parse([]string{"--shard", "6/5"}); err == nil {
		t.Error("--shard 6/5 parsed")
	}
}

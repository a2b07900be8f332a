package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/scenario"
)

// Sharding splits the selected scenarios (after --label) among n machines:
// `--shard i/n` keeps shard i's share. Every machine computes the same
// partition from the same set, so the n shards together run each selected
// scenario exactly once, and `faultline report --merge` of their reports is
// the whole run's report. The shares are balanced by what a scenario costs,
// its scheduled timeline (scenario.End) plus a cost per client, and
// protocol by protocol (partition).
//
// `--shard auto/n` takes the shard from the environment, for orchestrators
// that number their workers and images without a shell to do arithmetic
// (a FROM-scratch image): the 0-based FAULTLINE_SHARD_INDEX, else the
// 0-based JOB_COMPLETION_INDEX of a Kubernetes Indexed Job; index k runs
// shard k+1 of n.

// perClientCost is what one client adds to a scenario's wall time beyond
// its timeline: its engine's start, its share of the connect burst, and
// its share of the judging. Measured with the Go engine on 2 cores: a
// scenario of one or two clients runs within ~5 ms of its timeline
// (scenarios/reconnect: 43.1 s for 43.0 s scheduled), scale-thousand in
// 39.8 s for 33 s (6.8 ms a client), 4,500 clients 56.7 s beyond a 100 s
// timeline (12.6 ms a client: the judging grows faster than the clients).
// A driver process per client costs more; one partition for every SDK
// keeps `list --shard` and `run --shard` the same.
const perClientCost = 7 * time.Millisecond

// shardEnv names the variables `auto` reads, in order.
var shardEnv = []string{"FAULTLINE_SHARD_INDEX", "JOB_COMPLETION_INDEX"}

// shardSpec is the --shard flag: shard i (1-based) of n; n == 0 when unset.
type shardSpec struct {
	i, n   int
	auto   bool   // i came from the environment
	from   string // the variable it came from
	getenv func(string) string
}

// addShardFlag registers --shard on fs.
func addShardFlag(fs *flag.FlagSet) *shardSpec {
	s := &shardSpec{getenv: os.Getenv}
	fs.Var(s, "shard", "run only shard i of n of the selected scenarios (1 <= i <= n), balanced by scheduled duration; "+
		"auto/n takes i-1 from $FAULTLINE_SHARD_INDEX or $JOB_COMPLETION_INDEX (0-based, a Kubernetes Indexed Job's)")
	return s
}

func (s *shardSpec) String() string {
	if s == nil || s.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.i, s.n)
}

// Set parses i/n or auto/n; auto reads the environment now, so that a bad
// or missing index is a flag error like any other (exit 2, nothing run).
func (s *shardSpec) Set(v string) error {
	left, right, ok := strings.Cut(strings.TrimSpace(v), "/")
	if !ok {
		return fmt.Errorf("%q is not i/n (e.g. 2/3, or auto/3)", v)
	}
	n, err := strconv.Atoi(right)
	if err != nil || n < 1 {
		return fmt.Errorf("%q: the number of shards must be a whole number of at least 1, not %q", v, right)
	}
	i := 0
	if left == "auto" {
		getenv := s.getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		for _, name := range shardEnv {
			raw := strings.TrimSpace(getenv(name))
			if raw == "" {
				continue
			}
			k, err := strconv.Atoi(raw)
			if err != nil || k < 0 || k >= n {
				return fmt.Errorf("%q: $%s is %q, not a 0-based index below %d", v, name, raw, n)
			}
			i, s.auto, s.from = k+1, true, name
			break
		}
		if i == 0 {
			return fmt.Errorf("%q: auto needs $%s or $%s (a 0-based index), and neither is set", v, shardEnv[0], shardEnv[1])
		}
	} else if i, err = strconv.Atoi(left); err != nil || i < 1 || i > n {
		return fmt.Errorf("%q: the shard must be a whole number from 1 to %d, not %q", v, n, left)
	}
	s.i, s.n = i, n
	return nil
}

// pick keeps this shard's scenarios, in their given order, and says on w
// which share it took. Without --shard it returns scs unchanged. An empty
// share returns nil after saying why (the caller's "nothing matches" then
// ends the run with exit 2).
func (s *shardSpec) pick(scs []*scenario.Scenario, w io.Writer) []*scenario.Scenario {
	if s == nil || s.n == 0 || len(scs) == 0 {
		return scs
	}
	shards := partition(scs, s.n)
	mine := shards[s.i-1]
	var total, own time.Duration
	for _, sc := range scs {
		total += scenarioCost(sc)
	}
	for _, sc := range mine {
		own += scenarioCost(sc)
	}
	from := ""
	if s.auto {
		from = fmt.Sprintf(" ($%s=%d)", s.from, s.i-1)
	}
	if len(mine) == 0 {
		fmt.Fprintf(w, "faultline: shard %d/%d%s is empty: %d scenario(s) selected for %d shards\n", s.i, s.n, from, len(scs), s.n)
		return nil
	}
	fmt.Fprintf(w, "faultline: shard %d/%d%s: %d of %d scenario(s), %s of %s estimated\n",
		s.i, s.n, from, len(mine), len(scs), own.Round(time.Second), total.Round(time.Second))
	return mine
}

// scenarioCost estimates a scenario's wall time: its timeline and a cost
// per client.
func scenarioCost(sc *scenario.Scenario) time.Duration {
	return sc.End() + time.Duration(max(sc.Clients, 1))*perClientCost
}

// partition splits scs into n shards, deterministically for a given set
// whatever its order. It balances each protocol's scenarios on its own: an
// SDK is run over the scenarios of the protocol it speaks, the others being
// decided by its hello without a run (runner.Plan), so a partition balanced
// only overall could give one shard all of an SDK's work. Protocols are
// taken costliest first, and within one, its scenarios longest first (name,
// then file, breaking ties), each to the shard with the least of that
// protocol's load, then the least load overall, then the lowest number.
// Each shard keeps its scenarios in their given order.
//
// The greedy keeps one protocol's shares within one scenario of each other:
// their most loaded exceeds their least by at most that protocol's costliest
// scenario (each addition goes to the least loaded, so it can raise the
// maximum only to the old minimum plus itself). Overall the spread is then
// at most the sum of those costliest scenarios, one per protocol; with a
// single protocol, at most the costliest scenario.
func partition(scs []*scenario.Scenario, n int) [][]*scenario.Scenario {
	order := make([]int, len(scs))
	for i := range order {
		order[i] = i
	}
	cost := make([]time.Duration, len(scs))
	group := make([]string, len(scs))
	groupCost := map[string]time.Duration{}
	for i, sc := range scs {
		cost[i], group[i] = scenarioCost(sc), protocolOf(sc)
		groupCost[group[i]] += cost[i]
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		x, y := scs[i], scs[j]
		switch {
		case group[i] != group[j] && groupCost[group[i]] != groupCost[group[j]]:
			return groupCost[group[i]] > groupCost[group[j]]
		case group[i] != group[j]:
			return group[i] < group[j]
		case cost[i] != cost[j]:
			return cost[i] > cost[j]
		case x.Name != y.Name:
			return x.Name < y.Name
		}
		return x.File < y.File
	})
	load := make([]time.Duration, n)
	groupLoad := map[string][]time.Duration{}
	owner := make([]int, len(scs))
	for _, k := range order {
		gl := groupLoad[group[k]]
		if gl == nil {
			gl = make([]time.Duration, n)
			groupLoad[group[k]] = gl
		}
		best := 0
		for j := 1; j < n; j++ {
			if gl[j] < gl[best] || (gl[j] == gl[best] && load[j] < load[best]) {
				best = j
			}
		}
		gl[best] += cost[k]
		load[best] += cost[k]
		owner[k] = best
	}
	shards := make([][]*scenario.Scenario, n)
	for k, sc := range scs {
		shards[owner[k]] = append(shards[owner[k]], sc)
	}
	return shards
}

// protocolOf names the wire protocols of the servers a scenario's client
// dials (all its servers when it names none), as the runner reads them to
// decide whether an SDK speaks the scenario: sorted, joined by "+".
func protocolOf(sc *scenario.Scenario) string {
	names := sc.Client.Servers
	if len(names) == 0 {
		for _, s := range sc.Servers {
			names = append(names, s.Name)
		}
	}
	var ps []string
	for _, name := range names {
		s, _ := sc.Server(name)
		if k, ok := fakeserver.LookupKind(s.Kind); ok && !slices.Contains(ps, k.Protocol) {
			ps = append(ps, k.Protocol)
		}
	}
	sort.Strings(ps)
	return strings.Join(ps, "+")
}

package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// kindSwaps is --server-kind: servers of kind FROM run as kind TO, so that
// one scenario folder judges a client against a fake server and against the
// real one behind the same links (a difference is a bug in the fake).
type kindSwaps map[string]string

func (k *kindSwaps) String() string {
	var out []string
	for from, to := range *k {
		out = append(out, from+"="+to)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func (k *kindSwaps) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok || from == "" || to == "" {
		return fmt.Errorf("want FROM=TO, got %q", v)
	}
	var protos []string
	for _, n := range []string{from, to} {
		k, ok := fakeserver.LookupKind(n)
		if !ok {
			return fmt.Errorf("unknown server kind %q (kinds: %s)", n, strings.Join(fakeserver.Kinds(), ", "))
		}
		protos = append(protos, k.Protocol)
	}
	if protos[0] != protos[1] {
		return fmt.Errorf("%s speaks %s and %s speaks %s: a swap keeps the protocol", from, protos[0], to, protos[1])
	}
	if *k == nil {
		*k = kindSwaps{}
	}
	(*k)[from] = to
	return nil
}

// apply swaps the kinds (runner.SwapKinds).
func (k kindSwaps) apply(scs []*scenario.Scenario) error { return runner.SwapKinds(scs, k) }

package main

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// The discovery term: nats.go follows advertised servers (connect_urls)
// unless IgnoreDiscoveredServers() is set, which only
// FAULTLINE_NATS_AGAINST=ignore_discovered does; the effective contract
// says which, and the options nats.go runs with agree.
func TestDiscoveryTerm(t *testing.T) {
	servers := []string{"nats://127.0.0.1:4222"}
	for _, tc := range []struct {
		against, want string
		ignore        bool
	}{
		{"", "follow", false},
		{"ignore_discovered", "ignore", true},
	} {
		t.Setenv("FAULTLINE_NATS_AGAINST", tc.against)
		p, err := planFor(servers, nil, "c0", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.contract.Discovery; got.Value != tc.want || !strings.Contains(got.Cite, "updateServerPool()") {
			t.Errorf("against %q: discovery %+v, want %s", tc.against, got, tc.want)
		}
		o := nats.GetDefaultOptions()
		for _, f := range p.opts {
			if err := f(&o); err != nil {
				t.Fatal(err)
			}
		}
		if o.IgnoreDiscoveredServers != tc.ignore {
			t.Errorf("against %q: IgnoreDiscoveredServers %v", tc.against, o.IgnoreDiscoveredServers)
		}
	}
	if builtin().Discovery.Value != "follow" {
		t.Errorf("built-in discovery %+v", builtin().Discovery)
	}
}

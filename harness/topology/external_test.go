package topology_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
)

// external starts, in this process, what docker-compose.yml runs: a
// Toxiproxy behind its HTTP API and a `faultline serve` host with s1 and s2,
// and writes the topology file for them. Everything between the harness and
// them is the network, as in external mode: links over the API, events
// over the stream. No Docker needed.
func external(t *testing.T) string {
	return externalHosts(t, []string{"s1", "s2"})
}

// externalHosts is external with one serve host per group of servers
// (names separated by commas): servers of different hosts share only what
// crosses their APIs, as processes would.
func externalHosts(t *testing.T, groups []string) string {
	return externalFile(t, groups, false)
}

// externalFile is externalHosts; with hostedLinks, the links are hosted by a
// `faultline serve --links` host of their own (links_control), as in
// docker-compose.yml, rather than by a stock Toxiproxy.
func externalFile(t *testing.T, groups []string, hostedLinks bool) string {
	t.Helper()
	var apiURL, linksControl string
	if hostedLinks {
		h, err := control.NewHost(nil)
		if err != nil {
			t.Fatal(err)
		}
		lln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.ServeLinks(lln); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Serve(ctx, ln) }()
		t.Cleanup(func() { cancel(); <-done })
		apiURL, linksControl = "http://"+lln.Addr().String(), "http://"+ln.Addr().String()
	} else {
		srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
		api := httptest.NewServer(srv.Routes())
		t.Cleanup(func() {
			api.Close()
			_ = srv.Collection.Clear()
		})
		apiURL = api.URL
	}
	var servers []string
	for _, g := range groups {
		var cfgs []control.ServerConfig
		for _, name := range strings.Split(g, ",") {
			cfgs = append(cfgs, control.ServerConfig{Name: name})
		}
		h, err := control.NewHost(cfgs)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Serve(ctx, ln) }()
		t.Cleanup(func() { cancel(); <-done })
		for _, c := range cfgs {
			addr, _ := h.Addr(c.Name)
			servers = append(servers, fmt.Sprintf("  %s: {upstream: %q, control: \"http://%s\"}", c.Name, addr, ln.Addr()))
		}
	}
	// Link ports: free now, the kernel's choice (no fixed ports in tests).
	var ports []string
	for range servers {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(l.Addr().String())
		ports = append(ports, p)
		l.Close()
	}
	file := filepath.Join(t.TempDir(), "external.yaml")
	body := fmt.Sprintf("toxiproxy: %s\nlisten: 127.0.0.1\nports: [%s]\nservers:\n%s\n",
		apiURL, strings.Join(ports, ", "), strings.Join(servers, "\n"))
	if linksControl != "" {
		body += "links_control: " + linksControl + "\n"
	}
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestExternalModeRunsAScenarioAsEmbeddedDoes(t *testing.T) {
	scs, err := runner.Load("../../scenarios/reconnect")
	if err != nil {
		t.Fatal(err)
	}
	var sc *scenario.Scenario
	for _, s := range scs {
		if s.Name == "recovery-messages" { // publish, sends, a cut: every path of the API
			sc = s
		}
	}
	if sc == nil {
		t.Fatal("scenario recovery-messages not found")
	}
	ext, err := topology.NewExternal(external(t), "")
	if err != nil {
		t.Fatal(err)
	}
	// Twice: the second run must find fresh servers (reset through the API)
	// and a Toxiproxy without the first run's links.
	for run := 0; run < 2; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), sc.End()+30*time.Second)
		res := runner.Run(ctx, sc, runner.Config{Driver: godriver.Factory(1), Topology: ext})
		cancel()
		if len(res.Problems) > 0 {
			t.Fatalf("run %d: problems %v\n%s", run, res.Problems, res.History)
		}
		for _, c := range res.Checks {
			if c.Verdict != check.OK {
				t.Errorf("run %d: %s %s: %s %s\n%s", run, c.Requirement, c.Check, c.Verdict, c.Detail, res.History)
			}
		}
		var accepts, publishes, lag int
		for _, e := range res.History {
			switch e.Kind {
			case history.KindAccept:
				accepts++
			case history.KindPublish:
				publishes++
				if e.Seq == 1 && publishes != 1 {
					t.Errorf("run %d: seq 1 again after %d publishes", run, publishes-1)
				}
			case history.KindLag:
				lag++
			}
		}
		if accepts < 2 || publishes != 40 || lag != 1 {
			t.Errorf("run %d: %d accepts, %d publishes, %d lag events in the history", run, accepts, publishes, lag)
		}
	}
	if s := ext.Delays(); s.N == 0 {
		t.Error("no delay measured")
	} else {
		t.Logf("server events reached the harness after %s (in-process, loopback)", s)
	}
}

// Links hosted by a serve process (links_control) record what they saw into
// the history, under the scenario's link names, each link accept before the
// server accept of its connection; stock Toxiproxy links record nothing.
func TestExternalModeRecordsHostedLinksAccepts(t *testing.T) {
	scs, err := runner.Load("../../scenarios/reconnect")
	if err != nil {
		t.Fatal(err)
	}
	var sc *scenario.Scenario
	for _, s := range scs {
		if s.Name == "recovery-messages" {
			sc = s
		}
	}
	if sc == nil {
		t.Fatal("scenario recovery-messages not found")
	}
	for _, hosted := range []bool{false, true} {
		ext, err := topology.NewExternal(externalFile(t, []string{"s1,s2"}, hosted), "")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), sc.End()+30*time.Second)
		res := runner.Run(ctx, sc, runner.Config{Driver: godriver.Factory(1), Topology: ext})
		cancel()
		if len(res.Problems) > 0 {
			t.Fatalf("hosted links %v: problems %v\n%s", hosted, res.Problems, res.History)
		}
		for _, c := range res.Checks {
			if c.Verdict != check.OK {
				t.Errorf("hosted links %v: %s %s: %s %s", hosted, c.Requirement, c.Check, c.Verdict, c.Detail)
			}
		}
		links := map[string][]history.Event{}
		var accepts []history.Event
		for _, e := range res.History {
			switch {
			case e.Kind == history.KindLinkAccept:
				links[e.Link] = append(links[e.Link], e)
			case e.Kind == history.KindAccept:
				accepts = append(accepts, e)
			}
		}
		if !hosted {
			if len(links) > 0 {
				t.Errorf("a stock Toxiproxy's links recorded accepts: %v", links)
			}
			continue
		}
		if len(accepts) < 2 {
			t.Fatalf("%d server accepts", len(accepts))
		}
		seen := map[string]int{}
		for _, a := range accepts {
			i := seen[a.Server]
			seen[a.Server]++
			if i >= len(links[a.Server]) {
				t.Errorf("server accept %s of %s at %v: link %s recorded only %d accepts", a.Conn, a.Server, a.T, a.Server, len(links[a.Server]))
				continue
			}
			if la := links[a.Server][i]; la.T > a.T {
				t.Errorf("link %s's accept %d stamped at %v, after its server's at %v", a.Server, i, la.T, a.T)
			}
		}
	}
}

func TestExternalModeRefusesProcessFaultsAndUnknownServers(t *testing.T) {
	ext, err := topology.NewExternal(external(t), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kill := &scenario.Scenario{Servers: []scenario.Server{{Name: "s1"}},
		Steps: []scenario.Step{{Server: "s1", Kill: true}}}
	if _, err := ext.Up(ctx, kill, history.Nop{}); err == nil || !strings.Contains(err.Error(), "cannot kill or restart s1") {
		t.Errorf("a kill in external mode: %v", err)
	}
	unknown := &scenario.Scenario{Servers: []scenario.Server{{Name: "s9"}}}
	if _, err := ext.Up(ctx, unknown, history.Nop{}); err == nil || !strings.Contains(err.Error(), "s9 is not in the topology file") {
		t.Errorf("an unknown server: %v", err)
	}
}

func TestLoadExternalNamesEveryProblem(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(file, []byte("servers:\n  s1: {}\n"), 0o644)
	_, err := topology.LoadExternal(file)
	for _, want := range []string{"no ports", "s1: no upstream", "s1: no control URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	_ = os.WriteFile(file, []byte("ports: 8666-8668\nservr: {}\n"), 0o644)
	if _, err := topology.LoadExternal(file); err == nil || !strings.Contains(err.Error(), "servr") {
		t.Errorf("unknown key: %v", err)
	}
	_ = os.WriteFile(file, []byte("control: http://x:1\nports: 8666-8668\nservers: {s1: h:1}\n"), 0o644)
	f, err := topology.LoadExternal(file)
	if err != nil || len(f.Ports) != 3 || f.Ports[2] != 8668 || f.Servers["s1"].Upstream != "h:1" {
		t.Errorf("range and shorthand: %+v, %v", f, err)
	}
}

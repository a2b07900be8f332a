package selftest

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
	_ "github.com/faultline/faultline/packs/all" // every protocol's server kinds
)

//go:embed selftest.yaml
var scenarioText string

// serverName is the one server's name in the self-test's history.
const serverName = "s1"

// fake is the server the self-test's sessions talk to, recording into the
// history its checks read.
type fake struct {
	kind fakeserver.Kind
	srv  fakeserver.Server
	url  string
	sc   *scenario.Scenario
}

// kindFor picks the server kind for a hello's protocol: faultline's own
// session server when it names none, else the kind named after the protocol
// (each pack's fake: nats, mqtt, grpc), else any kind that speaks it.
func kindFor(protocol string) (fakeserver.Kind, error) {
	if protocol == "" || protocol == fakeserver.OwnProtocol {
		k, ok := fakeserver.LookupKind("session")
		if !ok {
			return k, fmt.Errorf("the session server kind is not registered")
		}
		return k, nil
	}
	if k, ok := fakeserver.LookupKind(protocol); ok && k.Protocol == protocol {
		return k, nil
	}
	var speaks []string
	for _, n := range fakeserver.Kinds() {
		k, _ := fakeserver.LookupKind(n)
		if k.Protocol == protocol {
			return k, nil
		}
		speaks = append(speaks, k.Protocol)
	}
	sort.Strings(speaks)
	return fakeserver.Kind{}, fmt.Errorf("no server kind of this faultline speaks %q (protocols: %s): a run would report every result UNIMPLEMENTED", protocol, strings.Join(uniq(speaks), ", "))
}

func uniq(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// selfScenario is the self-test's scenario with its server of kind.
func selfScenario(kind string) (*scenario.Scenario, error) {
	src := strings.Replace(scenarioText, "kind: KIND", "kind: "+kind, 1)
	return scenario.Parse("driver-test.yaml", []byte(src), runner.Registry())
}

// startFake starts a server of the protocol's kind on an ephemeral port.
func startFake(protocol string, rec history.Recorder) (*fake, error) {
	k, err := kindFor(protocol)
	if err != nil {
		return nil, err
	}
	sc, err := selfScenario(k.Name)
	if err != nil {
		return nil, fmt.Errorf("the self-test's scenario: %v", err)
	}
	s, err := fakeserver.Start(k.Name, serverName, rec, fakeserver.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		return nil, fmt.Errorf("cannot start a %s server: %v", k.Name, err)
	}
	return &fake{kind: k, srv: s, url: fakeserver.URL(k.Name, s.Addr()), sc: sc}, nil
}

// session is the server's name for a session the client names.
func (f *fake) session(claimed string) string {
	if f.kind.ClientSession != nil {
		return f.kind.ClientSession(serverName, claimed)
	}
	return claimed
}

// waitServer waits up to d for the server to record an event match is
// true of, from the history's event from on, polling the history (servers
// record from their own goroutines).
func waitServer(log *history.Log, from int, d time.Duration, match func(history.Event) bool) (history.Event, bool) {
	deadline := time.Now().Add(d)
	for {
		evs := log.Events()
		for _, e := range evs[min(from, len(evs)):] {
			if e.Source == history.SrcServer && match(e) {
				return e, true
			}
		}
		if time.Now().After(deadline) {
			return history.Event{}, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fake) close() { _ = f.srv.Close() }

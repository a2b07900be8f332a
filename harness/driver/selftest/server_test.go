package selftest

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/fakeserver"
)

// Every protocol a registered kind speaks gets a server kind for the
// self-test, and the self-test's scenario loads with it; a protocol none
// speaks is said so.
func TestEveryProtocolHasAServer(t *testing.T) {
	protocols := map[string]bool{"": true}
	for _, n := range fakeserver.Kinds() {
		k, _ := fakeserver.LookupKind(n)
		protocols[k.Protocol] = true
	}
	for p := range protocols {
		k, err := kindFor(p)
		if err != nil {
			t.Errorf("protocol %q: %v", p, err)
			continue
		}
		if want := p; want != "" && k.Protocol != want {
			t.Errorf("protocol %q: kind %s speaks %s", p, k.Name, k.Protocol)
		}
		if _, err := selfScenario(k.Name); err != nil {
			t.Errorf("protocol %q, kind %s: %v", p, k.Name, err)
		}
	}
	for p, want := range map[string]string{"": "session", "nats": "nats", "mqtt": "mqtt", "grpc": "grpc"} {
		if k, _ := kindFor(p); k.Name != want {
			t.Errorf("protocol %q: kind %s, want the fake %s", p, k.Name, want)
		}
	}
	if _, err := kindFor("amqp"); err == nil || !strings.Contains(err.Error(), `no server kind of this faultline speaks "amqp"`) {
		t.Errorf("amqp: %v", err)
	}
}

package runner

import (
	"testing"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// A kind whose clients name their sessions in their own terms (an MQTT
// client knows only its client id) gets the client's claim recorded under
// the server's name for it; other servers' claims are kept as said.
func TestClientSessionIsQualifiedByTheServersKind(t *testing.T) {
	log := history.NewLog(history.NewClock())
	r := &run{log: log,
		byURL: map[string]string{"mqtt://127.0.0.1:1/": "s1", "ws://127.0.0.1:2/": "s2"},
		sessionOf: map[string]func(string, string) string{
			"s1": func(server, claimed string) string { return server + "/" + claimed },
		}}
	c := &clientRunner{run: r}
	c.sink(driver.Event{Type: driver.EvState, To: "CONNECTED_ACTIVE", Server: "mqtt://127.0.0.1:1/", Session: "fl-1-0"})
	c.sink(driver.Event{Type: driver.EvState, To: "CONNECTED_ACTIVE", Server: "ws://127.0.0.1:2/", Session: "ABC"})
	c.sink(driver.Event{Type: driver.EvState, To: "CONNECTING"})
	got := log.Events()
	want := []string{"s1/fl-1-0", "ABC", ""}
	for i, e := range got {
		if e.Session != want[i] {
			t.Errorf("event %d: session %q, want %q", i, e.Session, want[i])
		}
	}
}

package scenario

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestLoadGood(t *testing.T) {
	const file = "testdata/good.yaml"
	sc, err := Load(file, testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	pos := func(line, col int) Pos { return Pos{File: file, Line: line, Col: col} }
	want := &Scenario{
		File:     file,
		Name:     "reconnect-recovers-session",
		Covers:   []string{"R1", "R3", "R4"},
		Labels:   []string{"reconnect", "smoke"},
		Duration: 5 * time.Second,
		Servers: []Server{
			{Name: "s1", Kind: "session", Retention: 2 * time.Second, Ping: 100 * ms, Buffer: 512, Pos: pos(7, 5)},
			{Name: "s2", Kind: "session", Pos: pos(8, 5)},
		},
		Client: Client{
			Servers:     []string{"s1", "s2"},
			Principal:   "faultline",
			Credentials: "secret",
			Reconnect: Reconnect{
				Enabled: true, Timeout: 3 * time.Second, Retention: 2 * time.Second, Buffer: 256,
				Strategy: Strategy{Backoff: "exponential", Initial: 50 * ms, Multiplier: 2, Max: time.Second, Attempts: 25, Jitter: 0.2},
			},
			Failover:       Failover{Auto: true, Cascading: true},
			Liveness:       300 * ms,
			ConnectTimeout: time.Second,
		},
		Clients: 2,
		Steps: []Step{
			{At: 0, Pos: pos(24, 5), Client: &ClientStep{Op: "connect"}},
			{At: 0, Pos: pos(25, 5), Client: &ClientStep{Op: "subscribe", Topic: "prices"}},
			{At: 100 * ms, Pos: pos(26, 5), Client: &ClientStep{Op: "send", Count: 5, Every: 10 * ms, Payload: "x", Only: []int{1}}},
			{At: 200 * ms, Pos: pos(27, 5), Server: "s1", Publish: &Publish{Topic: "prices", Count: 20, Every: 25 * ms}},
			{At: 400 * ms, Pos: pos(28, 5), Link: "s1", Fault: "slow", For: time.Second, Direction: DirDownstream, FaultArgs: &slowAttrs{Latency: 50 * ms}},
			{At: 400 * ms, Pos: pos(29, 5), Link: "s2", Fault: "cut", Direction: DirBoth, FaultArgs: &cutAttrs{}},
			{At: time.Second, Pos: pos(23, 5), Server: "s1", Close: true},
			{At: 3 * time.Second, Pos: pos(30, 5), Link: "s1", Fault: "heal"},
			{At: 4 * time.Second, Pos: pos(31, 5), Client: &ClientStep{Op: "close", Only: []int{0, 1}}},
		},
		Expect: []Expect{
			{Check: "reconnect_window", Requirement: "R4", Params: &windowParams{Within: 250 * ms}, Pos: pos(33, 5)},
			{Check: "session_preserved", Requirement: "R3", Params: &struct{}{}, Pos: pos(34, 5)},
		},
		Source: readFile(t, file),
	}
	if !reflect.DeepEqual(sc, want) {
		got, _ := json.MarshalIndent(sc, "", " ")
		exp, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("scenario differs\ngot:  %s\nwant: %s", got, exp)
	}
}

// TestDefaults pins every default the model relies on.
func TestDefaults(t *testing.T) {
	sc, err := Load("testdata/minimal.yml", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "minimal" {
		t.Errorf("name = %q, want the file's base name", sc.Name)
	}
	if sc.Clients != 1 || sc.Servers[0].Kind != "session" || sc.Duration != 0 {
		t.Errorf("clients %d, kind %q, duration %s", sc.Clients, sc.Servers[0].Kind, sc.Duration)
	}
	r := sc.Client.Reconnect
	if r.Enabled {
		t.Error("reconnect.enabled: false was not kept")
	}
	if s := r.Strategy; s.Backoff != "exponential" || s.Initial != 100*time.Millisecond || s.Multiplier != 2 {
		t.Errorf("strategy defaults = %+v", s)
	}
	if st := sc.Steps[1]; st.Direction != DirBoth || st.For != 0 {
		t.Errorf("link step defaults = %+v", st)
	}

	// enabled defaults to true; a fixed back-off gets no multiplier.
	src := `covers: [R1]
servers: [{name: s1}]
client: {servers: [s1], reconnect: {strategy: {backoff: fixed, initial: 1s}}}
expect: [{check: session_preserved, requirement: R1}]
`
	sc, err = Parse("x/fixed.yaml", []byte(src), testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if r := sc.Client.Reconnect; !r.Enabled || r.Strategy.Multiplier != 0 || r.Strategy.Initial != time.Second {
		t.Errorf("reconnect = %+v", r)
	}
	if sc.Name != "fixed" || len(sc.Steps) != 0 {
		t.Errorf("name %q, steps %d", sc.Name, len(sc.Steps))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yaml", testRegistry())
	var es Errors
	if err == nil || errors.As(err, &es) {
		t.Fatalf("want an os error, got %v", err)
	}
}

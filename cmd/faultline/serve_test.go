package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestServerSpecs(t *testing.T) {
	c, err := parseServerSpec("s1,kind=session,listen=:7000,ping=50ms,retention=2s,buffer=64")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "s1" || c.Kind != "session" || c.Listen != ":7000" || time.Duration(c.Ping) != 50*time.Millisecond ||
		time.Duration(c.Retention) != 2*time.Second || c.Buffer != 64 {
		t.Errorf("parsed %+v", c)
	}
	for spec, want := range map[string]string{
		"kind=session":  "start with the name",
		"s1,colour=red": `unknown key "colour"`,
		"s1,ping=fast":  "ping",
		"s1,buffer":     "is not key=value",
	} {
		if _, err := parseServerSpec(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to say %q", spec, err, want)
		}
	}
}

func TestServeAndModeFlagsRefuseBadInput(t *testing.T) {
	const dir = "../../scenarios/reconnect"
	for _, args := range [][]string{
		{"serve"}, // no server
		{"serve", "--server", "s1", "--server", "s1"},
		{"run", "--scenarios", dir, "--mode", "cloud"},
		{"run", "--scenarios", dir, "--toxiproxy", "http://127.0.0.1:8474"},
		{"run", "--scenarios", dir, "--mode", "external"},
		{"run", "--scenarios", dir, "--mode", "external", "--topology", "testdata/no-such-file.yaml"},
	} {
		var out, errb bytes.Buffer
		start := time.Now()
		if code := Main(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (bad input)\n%s", args, code, errb.String())
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%v took %v: bad input must be refused before anything runs", args, el)
		}
	}
}

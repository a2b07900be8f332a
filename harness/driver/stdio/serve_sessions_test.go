package stdio

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

func TestServeSessionsRoutesOpsAndTagsEvents(t *testing.T) {
	in := strings.Join([]string{
		`{"id":1,"op":"connect","client":4,"driver":5,"seed":1,"servers":["ws://a/"]}`,
		`{"id":1000000001,"op":"connect","client":1,"servers":["ws://b/"]}`,
		`{"id":7,"op":"connect","servers":["ws://c/"]}`, // no client: the default session
		`{"id":8,"op":"frobnicate","client":-3}`,
		`{"id":9,"op":"exit"}`,
		`{"id":10,"op":"connect","client":2}`, // after exit: never read
	}, "\n") + "\n"
	var out, logw bytes.Buffer
	opened := map[string]driver.Op{}
	open := func(op driver.Op, sink driver.Sink) (driver.Driver, error) {
		key := "default"
		if op.Client != nil {
			key = string(rune('0' + *op.Client))
		}
		opened[key] = op
		return &stubEngine{sink: sink}, nil
	}
	hello := driver.Hello{SDK: "stub", Version: "1", Features: []string{}, Sessions: 8}
	if err := ServeSessions(context.Background(), hello, open, strings.NewReader(in), &out, &logw, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if lines[0] != `{"sdk":"stub","version":"1","features":[],"sessions":8}` {
		t.Errorf("hello %s", lines[0])
	}
	if len(opened) != 3 || opened["4"].Driver != 5 || *opened["4"].Seed != 1 {
		t.Errorf("sessions made: %+v", opened)
	}
	byClient := map[string][]string{}
	replies := map[int64]driver.Reply{}
	for _, l := range lines[1:] {
		var w struct {
			driver.Event
			Re *int64 `json:"re"`
			OK bool   `json:"ok"`
			E  string `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &w); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if w.Re != nil {
			replies[*w.Re] = driver.Reply{Re: *w.Re, OK: w.OK, Error: w.E}
			continue
		}
		k := "default"
		if w.Client != nil {
			k = string(rune('0' + *w.Client))
		}
		byClient[k] = append(byClient[k], w.To)
	}
	for _, k := range []string{"4", "1", "default"} {
		if got := strings.Join(byClient[k], ","); got != "CONNECTING,CONNECTED_ACTIVE,CLOSED_BY_CLIENT" {
			t.Errorf("client %s: states %s", k, got)
		}
	}
	if r := replies[8]; r.OK || !strings.Contains(r.Error, "bad client -3") {
		t.Errorf("bad client: %+v", r)
	}
	if !replies[1].OK || !replies[1000000001].OK || !replies[7].OK || !replies[9].OK || len(replies) != 5 {
		t.Errorf("replies %+v", replies)
	}
}

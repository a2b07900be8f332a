package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

const natsContract = `{"first_attempt":{"value":"after_delay","cite":"nats.go doReconnect()"},"jitter":{"value":"added","cite":"nats.go"}}`

func TestHelloProtocolAndContract(t *testing.T) {
	l, err := parseLine([]byte(`{"sdk":"nats.go","version":"v1.56.0","protocol":"nats","features":["reconnect"],"sessions":1000,"contract":`+natsContract+`}`), true)
	if err != nil {
		t.Fatal(err)
	}
	h := l.hello
	if l.kind != kindHello || h.SDK != "nats.go" || h.Version != "v1.56.0" || h.Protocol != "nats" || h.Sessions != 1000 ||
		!reflect.DeepEqual(h.Features, []string{"reconnect"}) {
		t.Errorf("hello = %+v", h)
	}
	if string(h.Contract) != natsContract {
		t.Errorf("contract = %s, want %s", h.Contract, natsContract)
	}

	// Neither: faultline's own protocol, no contract.
	l, err = parseLine([]byte(`{"sdk":"js","version":"2","features":[]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	if l.hello.Protocol != "" || l.hello.Contract != nil {
		t.Errorf("hello without protocol or contract = %+v", l.hello)
	}

	// Wrong types are malformed hellos, in the protocol's words.
	for _, tc := range []struct{ in, want string }{
		{`{"sdk":"x","version":"1","features":[],"protocol":1}`, `field "protocol" is a number, want a string`},
		{`{"sdk":"x","version":"1","features":[],"protocol":["nats"]}`, `field "protocol" is an array, want a string`},
		{`{"sdk":"x","version":"1","features":[],"contract":{"jitter":}}`, `invalid JSON: invalid character '}' looking for beginning of value`},
	} {
		if _, err := parseLine([]byte(tc.in), true); err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
}

func TestReplyContract(t *testing.T) {
	eff := `{"jitter":{"value":"added","cite":"c"},"params":{"reconnect_wait_ms":150},"unsupported":[{"option":"reconnect.timeout_ms","reason":"r"}]}`
	l, err := parseLine([]byte(`{"re":7,"ok":true,"contract":`+eff+`}`), false)
	if err != nil {
		t.Fatal(err)
	}
	if l.kind != kindReply || l.reply.Re != 7 || !l.reply.OK || string(l.reply.Contract) != eff {
		t.Errorf("reply = %+v (contract %s)", l.reply, l.reply.Contract)
	}
	l, err = parseLine([]byte(`{"re":8,"ok":false,"error":"no"}`), false)
	if err != nil || l.reply.Contract != nil || l.reply.Error != "no" {
		t.Errorf("reply without contract = %+v, %v", l.reply, err)
	}
}

// The contract survives the protocol's own encoding, as every accepted line
// does (FuzzParseLine's property): what is recorded is what a re-read gives.
func TestContractRoundTripsThroughTheProtocolEncoding(t *testing.T) {
	for _, tc := range []struct {
		in        string
		wantHello bool
	}{
		{`{"sdk":"x","version":"1","features":[],"contract":` + natsContract + `}`, true},
		{`{"sdk":"x","version":"1","features":[],"contract":{"jitter": {"value": "added"}}}`, true},
		{`{"re":1,"ok":true,"contract":{"params": {"jitter_ms": 150}}}`, false},
	} {
		l, err := parseLine([]byte(tc.in), tc.wantHello)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		var v any = l.reply
		if tc.wantHello {
			v = l.hello
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		l2, err := parseLine(enc, tc.wantHello)
		if err != nil {
			t.Fatalf("%s → %s: %v", tc.in, enc, err)
		}
		if !reflect.DeepEqual(norm(l2), norm(l)) {
			t.Errorf("round trip changed %s:\n%s (%+v)\n%s (%+v)", tc.in, l.hello.Contract, l.reply, l2.hello.Contract, l2.reply)
		}
	}
}

func TestStatePhaseMustMatchTo(t *testing.T) {
	if len(driver.Phases) != 6 {
		t.Errorf("phases %v: want one for each of the six states", driver.Phases)
	}
	seen := map[string]bool{}
	for phase, to := range driver.Phases {
		if seen[to] {
			t.Errorf("two phases map to %s", to)
		}
		seen[to] = true
		in := `{"type":"state","to":"` + to + `","phase":"` + phase + `","native":"LIB_` + strings.ToUpper(phase) + `"}`
		l, err := parseLine([]byte(in), false)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if l.kind != kindEvent || l.event.Phase != phase || l.event.Native != "LIB_"+strings.ToUpper(phase) || l.event.To != to {
			t.Errorf("%s: event %+v", in, l.event)
		}
	}
	const phases = ` (phases: connecting, connected, recovering, closed_by_client, closed_by_server, closed_failed)`
	for _, tc := range []struct{ in, want string }{
		{`{"type":"state","from":"CONNECTING","to":"CONNECTED_ACTIVE","phase":"recovering"}`,
			`state event whose phase "recovering" is not its "to" "CONNECTED_ACTIVE"` + phases},
		{`{"type":"state","to":"CONNECTING","phase":"reconnecting"}`,
			`state event whose phase "reconnecting" is not its "to" "CONNECTING"` + phases},
		{`{"type":"state","to":"CLOSED_FAILED","phase":"CLOSED_FAILED"}`,
			`state event whose phase "CLOSED_FAILED" is not its "to" "CLOSED_FAILED"` + phases},
		{`{"type":"state","phase":"connecting"}`, `state event without "to"`},
		{`{"type":"state","to":"CONNECTED_ACTIVE","phase":1}`, `field "phase" is a number, want a string`},
	} {
		if _, err := parseLine([]byte(tc.in), false); err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
	// native alone (no phase) is the library's word, not checked.
	if _, err := parseLine([]byte(`{"type":"state","to":"CONNECTING","native":"anything"}`), false); err != nil {
		t.Errorf("native without phase: %v", err)
	}
	// A phase on another event type is not a state's: ignored, as unknown fields are.
	if _, err := parseLine([]byte(`{"type":"error","text":"t","phase":"nonsense"}`), false); err != nil {
		t.Errorf("phase on an error event: %v", err)
	}
}

func TestDialEvent(t *testing.T) {
	for _, in := range []string{
		`{"type":"dial","server":"nats://127.0.0.1:4222"}`,
		`{"type":"dial","server":"nats://127.0.0.1:4222","text":"dial tcp 127.0.0.1:4222: connect: connection refused"}`,
	} {
		l, err := parseLine([]byte(in), false)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if l.kind != kindEvent || l.event.Type != driver.EvDial || l.event.Server != "nats://127.0.0.1:4222" {
			t.Errorf("%s: %+v", in, l.event)
		}
	}
	l, _ := parseLine([]byte(`{"type":"dial","server":"u","text":"refused"}`), false)
	if l.event.Text != "refused" {
		t.Errorf("dial failure text lost: %+v", l.event)
	}
}

// Through a real program: the hello's protocol and contract reach Hello(),
// a connect reply's contract reaches Do's reply, a phased state and a dial
// reach the sink, and a phase that is not its "to" fails the driver.
func TestContractThroughTheReadLoop(t *testing.T) {
	const hello = `{"sdk":"sh","version":"1","protocol":"nats","features":[],"contract":{"jitter":{"value":"added","cite":"c"}}}`
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	var events []driver.Event
	sink := func(e driver.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	script := `echo '` + hello + `'; read op
echo '{"type":"dial","server":"nats://127.0.0.1:1"}'
echo '{"type":"state","to":"CONNECTING","phase":"connecting","native":"CONNECTING"}'
echo '{"re":1,"ok":true,"contract":{"params":{"jitter_ms":150}}}'
read op
echo '{"type":"state","from":"CONNECTING","to":"CONNECTED_ACTIVE","phase":"recovering"}'
exec sleep 10`
	d, err := Factory([]string{"sh", "-c", script})(ctx, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close(ctx) }()
	h := d.Hello()
	if h.Protocol != "nats" || string(h.Contract) != `{"jitter":{"value":"added","cite":"c"}}` {
		t.Errorf("hello = %+v (contract %s)", h, h.Contract)
	}
	rep, err := d.Do(ctx, driver.Op{ID: 1, Op: driver.OpConnect, Servers: []string{"nats://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || string(rep.Contract) != `{"params":{"jitter_ms":150}}` {
		t.Errorf("reply = %+v (contract %s)", rep, rep.Contract)
	}
	mu.Lock()
	got := append([]driver.Event(nil), events...)
	mu.Unlock()
	if len(got) != 2 || got[0].Type != driver.EvDial || got[0].Server != "nats://127.0.0.1:1" ||
		got[1].Phase != "connecting" || got[1].Native != "CONNECTING" {
		t.Errorf("events = %+v", got)
	}
	_, err = d.Do(ctx, driver.Op{ID: 2, Op: driver.OpClose})
	var de *Error
	if !errors.As(err, &de) || !strings.Contains(de.What, `malformed line 5 on stdout (state event whose phase "recovering" is not its "to" "CONNECTED_ACTIVE"`) {
		t.Errorf("a mismatched phase: %v", err)
	}
}

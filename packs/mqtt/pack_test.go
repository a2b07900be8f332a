package mqtt

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/packs/mqtt/wire"
)

const wait = 3 * time.Second

func TestKindRegistered(t *testing.T) {
	k, ok := fakeserver.LookupKind("mqtt")
	if !ok || k.Protocol != "mqtt" || k.Scheme != "mqtt" || k.Doc == "" {
		t.Fatalf("kind %+v", k)
	}
	if got := strings.Join(fakeserver.ActionNames("mqtt"), ","); got != "admit,answer_pongs,expire_sessions,refuse_connack,withhold_pongs" {
		t.Fatalf("actions %s", got)
	}
	if u := fakeserver.URL("mqtt", "127.0.0.1:1883"); u != "mqtt://127.0.0.1:1883" {
		t.Fatalf("URL %s", u)
	}
}

// The scenario loader decodes the kind's actions with their attributes.
func TestActionsDecode(t *testing.T) {
	reg := scenario.Registry{Kinds: fakeserver.Kinds(), Action: fakeserver.ActionArgs, Actions: fakeserver.ActionNames,
		Check: func(name string) (any, bool) { return check.New(name) }}
	src := func(step string) []byte {
		return []byte("name: x\ncovers: [R8]\nservers:\n  - {name: s1, kind: mqtt}\nclient: {servers: [s1]}\nsteps:\n  - {at: 0s, client: connect}\n  - " +
			step + "\n  - {at: 500ms, client: close}\nduration: 1s\nexpect:\n  - {check: deliberate_close, requirement: R8, by: client}\n")
	}
	sc, err := scenario.Parse("x.yaml", src("{at: 10ms, server: s1, refuse_connack: {code: 4}}"), reg)
	if err != nil {
		t.Fatal(err)
	}
	st := sc.Steps[1]
	if a, ok := st.ActionArgs.(*refuseArgs); st.Action != "refuse_connack" || !ok || a.code() != 4 {
		t.Fatalf("step %+v", st)
	}
	if sc, err = scenario.Parse("x.yaml", src("{at: 10ms, server: s1, refuse_connack: {}}"), reg); err != nil || sc.Steps[1].ActionArgs.(*refuseArgs).code() != 5 {
		t.Fatalf("refuse {}: %v", err)
	}
	if _, err := scenario.Parse("x.yaml", src("{at: 10ms, server: s1, refuse_connack: {code: 7}}"), reg); err == nil || !strings.Contains(err.Error(), "1–5") {
		t.Fatalf("refuse code 7: %v", err)
	}
	for _, flag := range []string{"admit", "withhold_pongs", "answer_pongs", "expire_sessions"} {
		if sc, err := scenario.Parse("x.yaml", src("{at: 10ms, server: s1, "+flag+": true}"), reg); err != nil || sc.Steps[1].Action != flag {
			t.Fatalf("%s: %v", flag, err)
		}
	}
}

// The kind started through the registry: common publish and close work,
// the kind's actions reach the broker, and the session mapping adds the
// neutral session events.
func TestKindEndToEnd(t *testing.T) {
	log := history.NewLog(history.NewClock())
	srv, err := fakeserver.Start("mqtt", "s1", log, fakeserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	do := func(action string, args any) {
		t.Helper()
		if err := fakeserver.Do(context.Background(), "mqtt", action, srv, args, fakeserver.Env{}); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}
	if code := connectCode(t, srv.Addr(), "c1", false); code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	do("refuse_connack", &refuseArgs{Code: 3})
	if code := connectCode(t, srv.Addr(), "c1", false); code != 3 {
		t.Fatalf("refused with %d", code)
	}
	do("admit", nil)
	do("withhold_pongs", nil)
	do("answer_pongs", nil)
	do("expire_sessions", nil)
	if seq := srv.(fakeserver.Publisher).Publish("t", []byte(`{"n":1}`)); seq != 1 {
		t.Fatalf("publish seq %d", seq)
	}
	srv.(fakeserver.SessionCloser).CloseSessions()

	// The expiry may wait for the broker to drop the connection it saw end.
	want := "session.create s1/c1,session.disconnect s1/c1,session.expire s1/c1"
	var got string
	for deadline := time.Now().Add(wait); got != want && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var kinds []string
		for _, e := range log.Events() {
			if strings.HasPrefix(e.Kind, "session.") {
				kinds = append(kinds, e.Kind+" "+e.Session)
			}
		}
		got = strings.Join(kinds, ",")
	}
	if got != want {
		t.Fatalf("session events %s, want %s", got, want)
	}
}

// connectCode connects with a raw CONNECT and returns the CONNACK code,
// then closes the connection and waits for the broker to see it.
func connectCode(t *testing.T, addr, id string, clean bool) byte {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(wait))
	p := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	p.ProtocolName, p.ProtocolVersion, p.CleanSession, p.ClientIdentifier = "MQTT", 4, clean, id
	if _, err := nc.Write(wire.Encode(p)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(nc)
	cp, err := packets.ReadPacket(r)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = nc.Write(wire.Encode(packets.NewControlPacket(packets.Disconnect)))
	_, _ = r.ReadByte() // the broker closes after DISCONNECT (or after a refusal)
	return cp.(*packets.ConnackPacket).ReturnCode
}

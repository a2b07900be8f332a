package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

func read(b []byte, lim Limits) (packets.ControlPacket, error) {
	return Read(bufio.NewReader(bytes.NewReader(b)), lim)
}

func connect() *packets.ConnectPacket {
	p := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	p.ProtocolName, p.ProtocolVersion, p.CleanSession, p.Keepalive, p.ClientIdentifier = "MQTT", 4, true, 30, "c1"
	return p
}

// Every packet a client sends survives paho's encoder and Read unchanged.
func TestRoundTrip(t *testing.T) {
	sub := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sub.MessageID, sub.Topics, sub.Qoss = 7, []string{"a/+/c", "#"}, []byte{1, 0}
	unsub := packets.NewControlPacket(packets.Unsubscribe).(*packets.UnsubscribePacket)
	unsub.MessageID, unsub.Topics = 8, []string{"a/+/c", "x"}
	will := connect()
	will.WillFlag, will.WillQos, will.WillTopic, will.WillMessage = true, 1, "w", []byte("bye")
	will.UsernameFlag, will.Username, will.PasswordFlag, will.Password = true, "u", true, []byte("p")
	pub := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pub.Qos, pub.Dup, pub.MessageID, pub.TopicName, pub.Payload = 1, true, 9, "a/b", []byte(`{"n":3}`)
	ack := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
	ack.MessageID = 9
	for _, cp := range []packets.ControlPacket{connect(), will, sub, unsub, pub, ack,
		packets.NewControlPacket(packets.Pingreq), packets.NewControlPacket(packets.Disconnect)} {
		got, err := read(Encode(cp), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", cp, err)
		}
		if !reflect.DeepEqual(Encode(got), Encode(cp)) {
			t.Fatalf("%s: decoded as %s", cp, got)
		}
	}
}

func TestReadErrors(t *testing.T) {
	pub := func(topic string, qos byte, pid uint16) []byte { return Publish(topic, []byte("x"), qos, false, pid) }
	sub := func(filter string, qos byte) []byte {
		p := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
		p.MessageID, p.Topics, p.Qoss = 1, []string{filter}, []byte{qos}
		return Encode(p)
	}
	conn := func(f func(*packets.ConnectPacket)) []byte { p := connect(); f(p); return Encode(p) }
	big := Publish("t", make([]byte, 100), 0, false, 0)
	tests := []struct {
		name string
		in   []byte
		lim  Limits
		want string // the *Error's text, or "EOF"/"unexpected EOF"
	}{
		{"nothing", nil, Limits{}, "EOF"},
		{"cut in the length", []byte{0x30, 0x80}, Limits{}, "unexpected EOF"},
		{"cut in the body", []byte{0x30, 0x05, 0x00}, Limits{}, "unexpected EOF"},
		{"reserved type 0", []byte{0x00, 0x00}, Limits{}, "type 0: reserved packet type 0"},
		{"reserved type 15", []byte{0xf0, 0x00}, Limits{}, "type 15: reserved packet type 15"},
		{"length of 5 bytes", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, Limits{}, "PUBLISH: remaining length longer than 4 bytes"},
		{"over the limit", big, Limits{MaxPacket: 50}, "PUBLISH: remaining length 103 over the maximum packet size 50"},
		{"over the default", []byte{0x30, 0xff, 0xff, 0xff, 0x7f}, Limits{}, "PUBLISH: remaining length 268435455 over the maximum packet size 1048576"},
		{"QoS 3", []byte{0x36, 0x00}, Limits{}, "PUBLISH: QoS 3 is reserved"},
		{"DUP on QoS 0", []byte{0x38, 0x00}, Limits{}, "PUBLISH: DUP set on a QoS 0 message"},
		{"SUBSCRIBE flags", []byte{0x80, 0x00}, Limits{}, "SUBSCRIBE: fixed header flags 0x0, must be 0x2"},
		{"PINGREQ flags", []byte{0xc1, 0x00}, Limits{}, "PINGREQ: fixed header flags 0x1, must be 0x0"},
		{"PINGREQ with a body", []byte{0xc0, 0x01, 0x00}, Limits{}, "PINGREQ: 1 bytes left over after the packet's fields (remaining length 1)"},
		{"PUBACK too short", []byte{0x40, 0x01, 0x00}, Limits{}, "PUBACK: truncated: a field of 2 bytes runs past the remaining length 1"},
		{"PUBACK 0", []byte{0x40, 0x02, 0x00, 0x00}, Limits{}, "PUBACK: packet identifier 0"},
		{"CONNECT cut in a string", []byte{0x10, 0x06, 0x00, 0x04, 'M', 'Q', 'T', 'T'}, Limits{}, "CONNECT: truncated: the remaining length 6 ends before the packet's fields"},
		{"CONNECT client id past the end", []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 9, 'c'}, Limits{}, "CONNECT: truncated: a field of 9 bytes runs past the remaining length 13"},
		{"CONNECT reserved flag", patch(conn(func(*packets.ConnectPacket) {}), 9, 0x03), Limits{}, "CONNECT: reserved flag set"},
		{"CONNECT password alone", conn(func(p *packets.ConnectPacket) { p.PasswordFlag, p.Password = true, []byte("x") }), Limits{}, "CONNECT: password flag without the user name flag"},
		{"CONNECT will QoS without will", conn(func(p *packets.ConnectPacket) { p.WillQos = 1 }), Limits{}, "CONNECT: will QoS or retain set without the will flag"},
		{"CONNECT bad UTF-8 id", conn(func(p *packets.ConnectPacket) { p.ClientIdentifier = "a\xffb" }), Limits{}, "CONNECT: client identifier: not valid UTF-8"},
		{"PUBLISH wildcard", pub("a/+", 0, 0), Limits{}, `PUBLISH: topic name "a/+": wildcards are not allowed in a topic name`},
		{"PUBLISH empty topic", pub("", 0, 0), Limits{}, `PUBLISH: topic name "": empty`},
		{"PUBLISH pid 0", pub("a", 1, 0), Limits{}, "PUBLISH: packet identifier 0"},
		{"PUBLISH NUL", pub("a\x00", 0, 0), Limits{}, `PUBLISH: topic name "a\x00": contains U+0000`},
		{"PUBLISH shorter than its topic", []byte{0x30, 0x03, 0x00, 0x05, 'a'}, Limits{}, "PUBLISH: truncated: a field of 5 bytes runs past the remaining length 3"},
		{"SUBSCRIBE bad #", sub("a/#/b", 0), Limits{}, `SUBSCRIBE: topic filter "a/#/b": '#' must be the last level`},
		{"SUBSCRIBE bad +", sub("a+", 0), Limits{}, `SUBSCRIBE: topic filter "a+": '+' must be a whole level`},
		{"SUBSCRIBE QoS 3", sub("a", 3), Limits{}, `SUBSCRIBE: requested QoS byte 0x3 for "a" (reserved bits or QoS 3)`},
		{"SUBSCRIBE no filter", []byte{0x82, 0x02, 0x00, 0x01}, Limits{}, "SUBSCRIBE: no topic filter"},
		{"UNSUBSCRIBE no filter", []byte{0xa2, 0x02, 0x00, 0x01}, Limits{}, "UNSUBSCRIBE: no topic filter"},
		{"UNSUBSCRIBE cut", []byte{0xa2, 0x05, 0x00, 0x01, 0x00, 0x03, 'a'}, Limits{}, "UNSUBSCRIBE: truncated: a field of 3 bytes runs past the remaining length 5"},
		{"UNSUBSCRIBE empty filter", []byte{0xa2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}, Limits{}, "UNSUBSCRIBE: 2 bytes left over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := read(tt.in, tt.lim)
			if err == nil {
				t.Fatalf("decoded %s", cp)
			}
			var we *Error
			if errors.As(err, &we) != (tt.want != "EOF" && tt.want != "unexpected EOF") {
				t.Fatalf("error %T %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func patch(b []byte, i int, v byte) []byte { b[i] = v; return b }

// A stream of packets reads one by one, then io.EOF.
func TestReadStream(t *testing.T) {
	var in []byte
	in = append(in, Encode(connect())...)
	in = append(in, Encode(packets.NewControlPacket(packets.Pingreq))...)
	in = append(in, Publish("a", []byte("x"), 1, false, 3)...)
	r := bufio.NewReader(bytes.NewReader(in))
	for _, want := range []string{"CONNECT", "PINGREQ", "PUBLISH"} {
		cp, err := Read(r, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(cp.String())[0]; got != want+":" {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	if _, err := Read(r, Limits{}); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+", "a", false},
		{"a/+", "a/", true},
		{"a/+/c", "a/b/c", true},
		{"+/+", "a/b", true},
		{"+", "a", true},
		{"+", "a/b", false},
		{"#", "a/b/c", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"a/#", "b/c", false},
		{"a/b/#", "a", false},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/x", true},
		{"faultline/send", "faultline/send", true},
		{"/+", "/a", true},
		{"+/+", "/a", true},
	}
	for _, tt := range tests {
		if got := Match(tt.filter, tt.topic); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

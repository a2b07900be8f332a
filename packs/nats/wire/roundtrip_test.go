package wire

import (
	"bytes"
	"reflect"
	"testing"
)

func sampleOps(t *testing.T) []Op {
	return []Op{
		mustJSON(t, `{"verbose":false,"pedantic":false,"name":"c1","lang":"go","version":"1.56.0","protocol":1,"headers":true}`),
		&Ping{}, &Pong{},
		&Sub{Subject: "foo.>", SID: "1"},
		&Sub{Subject: "foo", Queue: "workers", SID: "2"},
		&Unsub{SID: "1"}, &Unsub{SID: "2", Max: 10},
		&Pub{Subject: "foo"},
		&Pub{Subject: "foo", Reply: "_INBOX.1", Payload: []byte(`{"n":7}`)},
		&Pub{Subject: "bin", Payload: []byte("\x00\r\n\xff")},
		&HPub{Subject: "h", Header: []byte("NATS/1.0\r\nA: b\r\n\r\n"), Payload: []byte("x")},
		&HPub{Subject: "h", Reply: "r", Header: []byte("NATS/1.0\r\n\r\n")},
	}
}

// Encoding ops and parsing them back gives the same ops, and encoding those
// gives the same bytes.
func TestRoundTrip(t *testing.T) {
	ops := sampleOps(t)
	enc := encodeAll(ops)
	got, err := parseAll(Limits{}, enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ops) {
		t.Fatalf("got  %#v\nwant %#v", got, ops)
	}
	if again := encodeAll(got); !bytes.Equal(again, enc) {
		t.Fatalf("re-encoded differently:\n%q\n%q", again, enc)
	}
}

func TestEncodeServerOps(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"msg", AppendMsg(nil, "foo", "1", "", []byte("hi")), "MSG foo 1 2\r\nhi\r\n"},
		{"msg reply", AppendMsg(nil, "foo", "1", "r", nil), "MSG foo 1 r 0\r\n\r\n"},
		{"hmsg", AppendHMsg(nil, "foo", "9", "", []byte("NATS/1.0\r\n\r\n"), []byte("x")), "HMSG foo 9 12 13\r\nNATS/1.0\r\n\r\nx\r\n"},
		{"hmsg reply", AppendHMsg(nil, "foo", "9", "r", []byte("H"), nil), "HMSG foo 9 r 1 1\r\nH\r\n"},
		{"ping", AppendPing(nil), "PING\r\n"},
		{"pong", AppendPong(nil), "PONG\r\n"},
		{"ok", AppendOK(nil), "+OK\r\n"},
		{"err", AppendErr(nil, "Stale Connection"), "-ERR 'Stale Connection'\r\n"},
		{"err sanitised", AppendErr(nil, "a'b\r\nc"), "-ERR 'a b  c'\r\n"},
		{"info", AppendInfo(nil, Info{ServerID: "FAKE_S1_1", ServerName: "s1", Version: "2.10.0", Proto: 1, Host: "127.0.0.1",
			Port: 4222, Headers: true, MaxPayload: 1 << 20, ClientID: 3}),
			`INFO {"server_id":"FAKE_S1_1","server_name":"s1","version":"2.10.0","proto":1,"host":"127.0.0.1","port":4222,"headers":true,"max_payload":1048576,"client_id":3}` + "\r\n"},
		{"info ldm", AppendInfo(nil, Info{ServerID: "X", ConnectURLs: []string{"a:1", "b:2"}, LameDuck: true}),
			`INFO {"server_id":"X","server_name":"","version":"","proto":0,"host":"","port":0,"headers":false,"max_payload":0,"connect_urls":["a:1","b:2"],"ldm":true}` + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Fatalf("got  %q\nwant %q", tt.got, tt.want)
			}
		})
	}
}

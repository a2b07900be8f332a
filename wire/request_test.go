package wire

import (
	"errors"
	"testing"
)

func TestDecodeMigrationFrames(t *testing.T) {
	for _, in := range []string{
		`{"t":"req","req":7,"rows":500}`,
		`{"t":"row","req":7,"n":1}`,
		`{"t":"done","req":7}`,
		`{"t":"done","req":7,"cancelled":true}`,
		`{"t":"attn","req":7}`,
		`{"t":"migrate","mig":"s1-m1","target":"ws://127.0.0.1:1/","state":"REQUESTED"}`,
		`{"t":"migrate","mig":"s1-m1","target":"ws://127.0.0.1:1/","state":"MIGRATING"}`,
		`{"t":"migrate","mig":"s1-m1","state":"CANCELLED"}`,
		`{"t":"mig_ready","mig":"s1-m1"}`,
		`{"t":"mig_failed","mig":"s1-m1","reason":"connection cannot migrate"}`,
		`{"t":"mig_leaving","mig":"s1-m1"}`,
		`{"t":"hello","session":"a","token":"b","mig":"s1-m1","migration":true,"pending":{"7":120}}`,
		`{"t":"resumed","session":"a","reqs":[7]}`,
	} {
		f, err := Decode([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if again, err := Decode(Encode(f)); err != nil || again.T != f.T {
			t.Errorf("%s: re-decode: %v", in, err)
		}
	}
}

func TestDecodeRejectsMigrationFrames(t *testing.T) {
	for name, in := range map[string]string{
		"req no id":             `{"t":"req","rows":5}`,
		"req no rows":           `{"t":"req","req":1}`,
		"req negative":          `{"t":"req","req":-1,"rows":5}`,
		"row no n":              `{"t":"row","req":1}`,
		"row no req":            `{"t":"row","n":1}`,
		"done no req":           `{"t":"done"}`,
		"attn no req":           `{"t":"attn"}`,
		"migrate no mig":        `{"t":"migrate","target":"ws://x/","state":"REQUESTED"}`,
		"migrate bad state":     `{"t":"migrate","mig":"m","target":"ws://x/","state":"READY"}`,
		"migrate no state":      `{"t":"migrate","mig":"m","target":"ws://x/"}`,
		"migrate no target":     `{"t":"migrate","mig":"m","state":"REQUESTED"}`,
		"mig_ready no mig":      `{"t":"mig_ready"}`,
		"mig_failed no mig":     `{"t":"mig_failed","reason":"x"}`,
		"mig_leaving no mig":    `{"t":"mig_leaving"}`,
		"pending bad key":       `{"t":"hello","session":"a","pending":{"x":1}}`,
		"pending zero key":      `{"t":"hello","session":"a","pending":{"0":1}}`,
		"pending padded key":    `{"t":"hello","session":"a","pending":{"07":1}}`,
		"pending negative row":  `{"t":"hello","session":"a","pending":{"7":-1}}`,
		"reqs non-positive id":  `{"t":"resumed","session":"a","reqs":[0]}`,
		"cancelled not boolean": `{"t":"done","req":1,"cancelled":"yes"}`,
	} {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: want ErrFrame, got %v", name, err)
		}
	}
}

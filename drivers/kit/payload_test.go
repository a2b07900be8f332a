package kit

import (
	"encoding/json"
	"testing"
)

// A send is published as {"n": the client's send number, "payload": the
// op's payload}, which the servers read as the receive's Seq.
func TestNumbered(t *testing.T) {
	for _, c := range []struct {
		n    int64
		p    string
		want string
	}{
		{1, `"m1"`, `{"n":1,"payload":"m1"}`},
		{2, `{"n":9, "x":[1]}`, `{"n":2,"payload":{"n":9,"x":[1]}}`},
		{3, ``, `{"n":3}`},
		{4, `null`, `{"n":4}`},
		{5, `7`, `{"n":5,"payload":7}`},
		{6, `{bad`, `{"n":6}`},
	} {
		if got := string(Numbered(c.n, json.RawMessage(c.p))); got != c.want {
			t.Errorf("Numbered(%d, %s) = %s, want %s", c.n, c.p, got, c.want)
		}
		if got := SeqOf(Numbered(c.n, json.RawMessage(c.p))); got != c.n {
			t.Errorf("SeqOf(Numbered(%d)) = %d", c.n, got)
		}
	}
	for p, want := range map[string]int64{`{"n":5}`: 5, `{"seq":6}`: 6, `7`: 7, `junk`: 0, `{"n":1}{}`: 0, `{"n":1.5}`: 0, `""`: 0} {
		if got := SeqOf([]byte(p)); got != want {
			t.Errorf("SeqOf(%s) = %d, want %d", p, got, want)
		}
	}
}

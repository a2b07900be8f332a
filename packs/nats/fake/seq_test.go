package fake

import "testing"

func TestPayloadSeq(t *testing.T) {
	for in, want := range map[string]int64{
		`{"n":7}`: 7, `{"seq":9,"x":1}`: 9, ` 42 `: 42, `{"n":"7"}`: 0, `hello`: 0, ``: 0, `{"other":1}`: 0, `{`: 0,
	} {
		if got := payloadSeq([]byte(in)); got != want {
			t.Errorf("payloadSeq(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestSubjectMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, subject string
		want             bool
	}{
		{"a.*", "a.b", true}, {"a.*", "a.b.c", false}, {"a.>", "a.b.c", true}, {"a.>", "a", false},
		{"*.b", "a.b", true}, {">", "a", true}, {"a.*.c", "a.b.c", true}, {"a.*.c", "a.b.d", false},
	} {
		x := newSubIndex()
		x.add(&sub{subject: tt.pattern})
		if got := len(x.match(tt.subject, func(*sub) bool { return true })) == 1; got != tt.want {
			t.Errorf("%s matches %s: %v, want %v", tt.pattern, tt.subject, got, tt.want)
		}
	}
}

package fake

import "testing"

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

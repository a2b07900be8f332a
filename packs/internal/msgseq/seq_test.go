package msgseq

import "testing"

func TestOf(t *testing.T) {
	for in, want := range map[string]int64{
		`{"n":7}`: 7, `{"seq":9,"x":1}`: 9, ` 42 `: 42, `{"n":"7"}`: 0, `hello`: 0, ``: 0, `{"other":1}`: 0, `{`: 0,
	} {
		if got := Of([]byte(in)); got != want {
			t.Errorf("Of(%q) = %d, want %d", in, got, want)
		}
	}
}

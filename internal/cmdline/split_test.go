package cmdline

import (
	"reflect"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"node sdk/node/driver.js", []string{"node", "sdk/node/driver.js"}, false},
		{"  a\t b  ", []string{"a", "b"}, false},
		{`'/opt/my sdk/driver' --x`, []string{"/opt/my sdk/driver", "--x"}, false},
		{`"a \"b\" \\c" d\ e`, []string{`a "b" \c`, "d e"}, false},
		{`"a\nb"`, []string{`a\nb`}, false},
		{`x''y ""`, []string{"xy", ""}, false},
		{`it's`, nil, true},
		{`"open`, nil, true},
		{`end\`, nil, true},
		{"   ", nil, true},
		{`$HOME; rm -rf / | cat`, []string{"$HOME;", "rm", "-rf", "/", "|", "cat"}, false},
	} {
		got, err := Split(c.in)
		if c.bad != (err != nil) || (!c.bad && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("Split(%q) = %q, %v; want %q (bad %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

package reports

import (
	"fmt"
	"strings"
)

// slug turns a scenario's (or an SDK's) name into an anchor and file name:
// lower-case letters, digits, '.', '_' and '-'; anything else becomes '-'.
// Scenario names are already of that shape, so their anchors are their
// names (index.html#reset-detection) and stay put from run to run.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '.' || r == '_' || r == '-'
		switch {
		case ok:
			b.WriteRune(r)
			dash = r == '-'
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		s = "scenario"
	}
	return s
}

// slugger hands out unique slugs: a second name with the same slug gets
// "-2", and so on, in the order asked (the report's order, so the same
// report always gets the same ones).
type slugger map[string]int

func (s slugger) of(name string) string {
	base := slug(name)
	out := base
	for s[out] > 0 {
		s[base]++
		out = fmt.Sprintf("%s-%d", base, s[base])
	}
	s[out]++
	return out
}

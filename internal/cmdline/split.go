package cmdline

import (
	"fmt"
	"strings"
)

// Split splits a driver command line into argv the way a shell
// would split a simple one, without running a shell (no expansion, no
// pipes): words are separated by white space; '…' keeps everything
// literally; "…" keeps everything but lets \ escape " and \; outside quotes
// \ escapes the next character. "node sdk/node/driver.js" → [node
// sdk/node/driver.js]; "'/opt/my sdk/driver' --fast" → [/opt/my sdk/driver --fast].
func Split(s string) ([]string, error) {
	var out []string
	var w strings.Builder
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				out = append(out, w.String())
				w.Reset()
				inWord = false
			}
		case r == '\'':
			inWord = true
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			w.WriteString(string(rs[i+1 : j]))
			i = j
		case r == '"':
			inWord = true
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) && (rs[j+1] == '"' || rs[j+1] == '\\') {
					j++
				}
				w.WriteRune(rs[j])
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			i = j
		case r == '\\':
			inWord = true
			if i+1 == len(rs) {
				return nil, fmt.Errorf("trailing \\ in %q", s)
			}
			i++
			w.WriteRune(rs[i])
		default:
			inWord = true
			w.WriteRune(r)
		}
	}
	if inWord {
		out = append(out, w.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty driver command")
	}
	return out, nil
}

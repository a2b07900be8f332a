package scenario

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// String is "file:line:col", or just the file when the line is unknown.
func (p Pos) String() string {
	if p.Line <= 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem in a scenario file, at the node that caused it.
type Error struct {
	Pos Pos
	Msg string
}

func (e Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every problem found, sorted by file, line and column, so that a
// user fixes a file top to bottom in one pass instead of one error per run.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted orders the errors and drops exact repeats: a node reached through
// several YAML aliases would otherwise report the same problem each time.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 && e == es[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// yaml.v3 syntax errors read "yaml: line N: message" and carry no column.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yaml.v3 numbers lines from 0 in its parser's errors (but from 1 in its
// scanner's) and prints no line at all for line 0; these are the parser's.
var parserProblems = []string{"did not find expected", "found duplicate %", "found incompatible YAML", "found undefined tag"}

// yaml.v3 reports an undefined alias without a position; the source has it.
var unknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

// syntaxError turns a yaml.v3 parse error into a positioned Error (column 1:
// yaml.v3 gives none).
func syntaxError(file string, src []byte, err error) Error {
	msg, line, col := err.Error(), 0, 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		line, col = find(src, "*"+m[1])
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	for _, prefix := range parserProblems {
		if strings.HasPrefix(msg, prefix) {
			line++
			break
		}
	}
	if tl, tc, ok := tabIndent(src, msg, line); ok {
		return Error{Pos: Pos{File: file, Line: tl, Col: tc}, Msg: "tab in indentation: YAML indents with spaces"}
	}
	return Error{Pos: Pos{File: file, Line: max(line, 1), Col: col}, Msg: "YAML syntax error: " + msg}
}

// tabIndent finds the tab behind a syntax error: yaml.v3 reports one as
// "found a tab character that violates indentation" (or "...where an
// indentation space is expected"), a line early or not, and a tab that
// starts a line of a block as "found character that cannot start any
// token". It is the first line up to the error's next one with a tab
// among its leading blanks (a tab elsewhere is legal YAML); for the
// cryptic message, only a tab on the error's own line or a neighbour.
func tabIndent(src []byte, msg string, errLine int) (line, col int, ok bool) {
	tabMsg := strings.Contains(msg, "tab character")
	if !tabMsg && !strings.HasPrefix(msg, "found character that cannot start any token") {
		return 0, 0, false
	}
	for i, text := range strings.Split(string(src), "\n") {
		n := i + 1
		if n > errLine+1 {
			break
		}
		lead := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
		t := strings.IndexByte(lead, '\t')
		if t < 0 || !tabMsg && n < errLine-1 {
			continue
		}
		return n, t + 1, true
	}
	return 0, 0, false
}

// find is the 1-based line and column of the first occurrence of s in src
// (0, 1 when it does not occur).
func find(src []byte, s string) (line, col int) {
	i := strings.Index(string(src), s)
	if i < 0 {
		return 0, 1
	}
	before := string(src[:i])
	line = strings.Count(before, "\n") + 1
	return line, len([]rune(before[strings.LastIndex(before, "\n")+1:])) + 1
}

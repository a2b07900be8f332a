package scenario

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// What a message says about a name that is none of the valid ones: the
// valid name it is most likely a typo of, else every valid name, so that an
// author never has to look the names up elsewhere.

// maxPrefixMatches bounds a "did you mean one of": more names than this
// sharing a prefix tell the author no more than the full list.
const maxPrefixMatches = 4

// Nearest lists the candidates name is likely meant as: the one at the
// smallest edit distance when that is a typo's (at most 2, and less than
// the name's length), else those sharing the longest prefix with it when
// that prefix is a word's worth (at least 4 runes and half the name:
// "reconnect" → reconnect_timeout, reconnect_window, ...). Sorted.
func Nearest(name string, candidates []string) []string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestD && d < utf8.RuneCountInString(name) {
			best, bestD = c, d
		}
	}
	if best != "" {
		return []string{best}
	}
	var out []string
	longest := max(4, (utf8.RuneCountInString(name)+1)/2)
	for _, c := range candidates {
		switch n := commonPrefix(name, c); {
		case n > longest:
			longest, out = n, []string{c}
		case n == longest && !slices.Contains(out, c):
			out = append(out, c)
		}
	}
	if len(out) > maxPrefixMatches {
		return nil
	}
	slices.Sort(out)
	return out
}

// didYouMean is " (did you mean "x"?)", " (did you mean one of "x", "y"?)"
// or "" when no candidate is near.
func didYouMean(name string, candidates []string) string {
	near := Nearest(name, candidates)
	switch len(near) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (did you mean %q?)", near[0])
	}
	quoted := make([]string, len(near))
	for i, n := range near {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return fmt.Sprintf(" (did you mean one of %s?)", strings.Join(quoted, ", "))
}

// suggest completes a message about an unknown name: the nearest valid
// name, else the valid names (what: "checks", "keys") sorted and wrapped;
// "" when there are none to offer.
func suggest(name, what string, candidates []string) string {
	if s := didYouMean(name, candidates); s != "" {
		return s
	}
	return listed(what, candidates)
}

// Wrapping of long lists: a line of names is at most wrapWidth runes after
// its indent, so that a message stays readable in a terminal.
const (
	inlineWidth = 60
	wrapWidth   = 72
	wrapIndent  = "    "
)

// listed is " (what: a, b, c)", the names sorted and without repeats; a
// list longer than a short line goes on lines of its own, indented.
func listed(what string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	if all := strings.Join(names, ", "); utf8.RuneCountInString(all) <= inlineWidth {
		return " (" + what + ": " + all + ")"
	}
	var b strings.Builder
	b.WriteString(" (" + what + ":\n" + wrapIndent)
	width := 0
	for i, n := range names {
		item := n
		if i < len(names)-1 {
			item += ","
		}
		if width > 0 && width+1+utf8.RuneCountInString(item) > wrapWidth {
			b.WriteString("\n" + wrapIndent)
			width = 0
		} else if width > 0 {
			b.WriteString(" ")
			width++
		}
		b.WriteString(item)
		width += utf8.RuneCountInString(item)
	}
	b.WriteString(")")
	return b.String()
}

// commonPrefix is how many leading runes a and b share.
func commonPrefix(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n := 0
	for n < len(ra) && n < len(rb) && ra[n] == rb[n] {
		n++
	}
	return n
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

package main

import (
	"fmt"
	"strings"
)

// labelFilter is a small label expression: alternatives separated by "||" or
// ",", each a conjunction of terms separated by "&&", a term "name" or "!name".
// The empty filter matches everything.
type labelFilter [][]string

func parseLabels(expr string) (labelFilter, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, nil
	}
	var f labelFilter
	for _, alt := range strings.FieldsFunc(strings.ReplaceAll(expr, "||", ","), func(r rune) bool { return r == ',' }) {
		var and []string
		for _, t := range strings.Split(alt, "&&") {
			t = strings.TrimSpace(t)
			name := strings.TrimPrefix(t, "!")
			if name == "" || strings.ContainsAny(name, "!()| ") {
				return nil, fmt.Errorf("bad term %q in %q", t, expr)
			}
			and = append(and, t)
		}
		f = append(f, and)
	}
	return f, nil
}

func (f labelFilter) match(labels []string) bool {
	if len(f) == 0 {
		return true
	}
	has := map[string]bool{}
	for _, l := range labels {
		has[l] = true
	}
	for _, and := range f {
		ok := true
		for _, t := range and {
			if strings.HasPrefix(t, "!") == has[strings.TrimPrefix(t, "!")] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

package regdoc

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// ParamTable renders a check's parameters as the Markdown table of its
// section in docs/authoring.md: key, type, default (or required) and
// meaning, the meaning being the field's comment.
func ParamTable(c Check) string {
	if len(c.Params) == 0 {
		return "No parameters.\n"
	}
	var b strings.Builder
	b.WriteString("| parameter | type | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, p := range c.Params {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Key, cell(p.docType()), cell(p.Default()), cell(p.Doc))
	}
	return b.String()
}

// docType is the type column: the schema kind, an enum's values, a list's
// items.
func (p Param) docType() string {
	if e, ok := p.Extra.Get("enum"); ok {
		var vs []string
		for _, v := range e.([]any) {
			vs = append(vs, fmt.Sprintf("`%v`", v))
		}
		return "one of " + strings.Join(vs, ", ")
	}
	switch k := p.Kind(); k {
	case "boolean":
		return "bool"
	case "integer", "number":
		return k + p.bounds()
	case "string":
		if n, ok := p.Extra.Get("minLength"); ok && fmt.Sprint(n) == "1" {
			return "string, not empty"
		}
		return k
	case "array":
		if it, ok := p.Extra.Get("items"); ok {
			if r, _ := it.(Obj).Get("$ref"); r == "#/$defs/name" {
				return "list of server names"
			}
		}
		return "list of " + Param{Type: p.Type.Elem()}.Kind()
	default:
		return k
	}
}

// Default is the default column: "required", what the comment says the
// default is ("(default 30ms)", "…; default 0)", "or any (default)",
// "Default: …"), else the zero value of a plain field, or unset for an
// optional one (the meaning says what unset does).
func (p Param) Default() string {
	if p.Required {
		return "required"
	}
	if m := defaultIn.FindStringSubmatch(p.Doc); m != nil {
		d, _, _ := strings.Cut(m[1], ": ") // "50ms: why"
		return strings.TrimSpace(d)
	}
	if m := defaultAfter.FindStringSubmatch(p.Doc); m != nil {
		return m[1]
	}
	if m := defaultSentence.FindStringSubmatch(p.Doc); m != nil {
		return m[1]
	}
	if p.Type.Kind() != reflect.Pointer {
		switch p.Kind() {
		case "boolean":
			return "false"
		case "integer", "number":
			return "0"
		}
	}
	return "unset"
}

var (
	defaultIn       = regexp.MustCompile(`(?:\(|; )default:? ((?:[^;()]|\([^()]*\))*)`)
	defaultAfter    = regexp.MustCompile(`"?([\w-]+)"? \(default\)`)
	defaultSentence = regexp.MustCompile(`Default: ([^.]*)\.`)
)

// bounds renders a number's bounds from the extra table: " ≥ 1",
// ", 0 < x ≤ 0.5".
func (p Param) bounds() string {
	var lo, hi string
	for _, m := range p.Extra {
		switch m.K {
		case "minimum":
			lo = fmt.Sprintf("%v ≤", m.V)
		case "exclusiveMinimum":
			lo = fmt.Sprintf("%v <", m.V)
		case "maximum":
			hi = fmt.Sprintf("≤ %v", m.V)
		case "exclusiveMaximum":
			hi = fmt.Sprintf("< %v", m.V)
		}
	}
	switch {
	case lo != "" && hi != "":
		return ", " + lo + " x " + hi
	case lo != "":
		// "0 ≤" reads "≥ 0" alone.
		v, op, _ := strings.Cut(lo, " ")
		return map[string]string{"≤": " ≥ ", "<": " > "}[op] + v
	case hi != "":
		return " " + hi
	}
	return ""
}

// cell escapes a table cell's pipes.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

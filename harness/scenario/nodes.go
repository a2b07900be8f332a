package scenario

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// parser walks one file's node tree, collecting every problem instead of
// stopping at the first.
type parser struct {
	file   string
	reg    Registry
	errs   Errors
	nodes  int                 // values decoded so far (bounds alias expansion)
	active map[*yaml.Node]bool // alias targets being decoded (catches cycles)
	// coversOK: covers decoded, so expect entries can be checked against it
	// (else each would repeat the covers problem).
	coversOK bool
	// pending are the checks' scenario preconditions, run once the file is
	// read (preconditions.go).
	pending []precondition
}

// maxNodes bounds the work one file can cause: aliases can make a small file
// expand into a huge tree, and the loader must stay cheap on any input.
const maxNodes = 1 << 18

func (p *parser) pos(n *yaml.Node) Pos {
	return Pos{File: p.file, Line: n.Line, Col: n.Column}
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, Error{Pos: p.pos(n), Msg: fmt.Sprintf(format, args...)})
}

// mark returns a function that tells whether errors were added since, so a
// caller can skip follow-up checks on a value that failed to decode.
func (p *parser) mark() func() bool {
	n := len(p.errs)
	return func() bool { return len(p.errs) == n }
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 64 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected YAML node"
}

// pair is one mapping entry.
type pair struct {
	key, val *yaml.Node
	name     string
}

// pairs returns a mapping's entries, reporting duplicate keys (yaml.v3 does
// not when it builds a node tree) and keys that are not plain names.
func (p *parser) pairs(n *yaml.Node) []pair {
	var out []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kd := deref(k)
		if kd.Kind != yaml.ScalarNode || isNull(kd) {
			p.errorf(k, "a key must be a plain name, got %s", describe(kd))
			continue
		}
		if kd.ShortTag() == "!!merge" {
			p.errorf(k, "merge keys (<<) are not supported: write the keys out")
			continue
		}
		if first, dup := seen[kd.Value]; dup {
			p.errorf(k, "duplicate key %q (first at line %d, col %d)", kd.Value, first.Line, first.Column)
			continue
		}
		seen[kd.Value] = k
		out = append(out, pair{key: k, val: v, name: kd.Value})
	}
	return out
}

// lookup is the value node of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lookupPath follows keys through nested mappings.
func lookupPath(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n = lookup(n, k); n == nil {
			return nil
		}
	}
	return n
}

// or returns n, or fallback when n is nil: a position for a missing key.
func or(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

func (p *parser) unknownKey(k *yaml.Node, name, where string, candidates []string) {
	p.errorf(k, "unknown key %q in %s%s", name, where, suggest(name, "keys", candidates))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func list(names []string) string { return strings.Join(names, ", ") }

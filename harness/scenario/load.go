package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and validates one scenario file. A file with problems yields no
// scenario and an Errors listing every problem; an unreadable file yields the
// os error.
func Load(path string, reg Registry) (*Scenario, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src, reg)
}

// Parse validates src as the scenario file named file (used in positions and
// for the default name).
func Parse(file string, src []byte, reg Registry) (*Scenario, error) {
	sc, _, errs := parse(file, src, reg)
	if len(errs) > 0 {
		return nil, errs
	}
	return sc, nil
}

// LoadDir loads every *.yaml and *.yml file under dir, recursively, sorted by
// path. Problems of all files are collected into one Errors (nothing runs if
// any file is bad), including scenario names used by more than one file.
func LoadDir(dir string, reg Registry) ([]*Scenario, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(path)); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var (
		out   []*Scenario
		all   Errors
		first = map[string]Pos{}
	)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sc, namePos, errs := parse(f, src, reg)
		all = append(all, errs...)
		if sc == nil {
			continue
		}
		// Checked even for bad files: the user should learn of a clash now,
		// not after fixing the other problems.
		if prev, dup := first[sc.Name]; dup {
			all = append(all, Error{Pos: namePos, Msg: fmt.Sprintf("duplicate scenario name %q (also at %s)", sc.Name, prev)})
		} else {
			first[sc.Name] = namePos
		}
		out = append(out, sc)
	}
	if len(all) > 0 {
		return nil, all.sorted()
	}
	return out, nil
}

// parse is Parse that also returns the (possibly invalid) scenario and the
// position of its name, for LoadDir's duplicate check. sc is nil only when
// the file is no YAML mapping at all.
func parse(file string, src []byte, reg Registry) (sc *Scenario, namePos Pos, errs Errors) {
	p := &parser{file: file, reg: reg.withDefaults()}
	root, errs := readDocument(file, src)
	if errs != nil {
		return nil, Pos{}, errs
	}
	sc, namePos = p.scenario(root)
	sc.Source = string(src)
	return sc, namePos, p.errs.sorted()
}

// readDocument parses src into the single mapping node a scenario is.
func readDocument(file string, src []byte) (root *yaml.Node, errs Errors) {
	at := func(n *yaml.Node, msg string) Errors {
		pos := Pos{File: file, Line: 1, Col: 1}
		if n != nil && n.Line > 0 {
			pos.Line, pos.Col = n.Line, n.Column
		}
		return Errors{{Pos: pos, Msg: msg}}
	}
	// The loader must never take the harness down, whatever the input; a
	// panic in the YAML library becomes a positioned error.
	defer func() {
		if r := recover(); r != nil {
			root, errs = nil, at(nil, fmt.Sprintf("YAML parser failed: %v", r))
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, at(nil, "empty scenario file")
		}
		return nil, Errors{syntaxError(file, src, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, Errors{syntaxError(file, src, err)}
	default:
		return nil, at(firstContent(&next), "a scenario file holds one YAML document; found a second")
	}
	root = firstContent(&doc)
	if root == nil || isNull(deref(root)) {
		return nil, at(root, "empty scenario file")
	}
	if r := deref(root); r.Kind != yaml.MappingNode {
		return nil, at(root, fmt.Sprintf("a scenario is a mapping (name: ..., covers: ..., steps: ...), got %s", describe(r)))
	}
	return deref(root), nil
}

// firstContent is a document's top node.
func firstContent(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return doc.Content[0]
	}
	if doc.Kind == 0 {
		return nil
	}
	return doc
}

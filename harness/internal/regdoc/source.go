package regdoc

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
)

// The descriptions come from the Go source: a checker's from its struct's
// doc comment, a parameter's from its field's, so that the comment a Go
// reader sees is the text an author sees, and no checker needs extra tags.
// The source is read at generation time (a test with -update, or make
// generate), from this module's tree.

const module = "github.com/faultline/faultline"

// typeDoc is what the source says of one struct type.
type typeDoc struct {
	Doc    string            // the type's doc comment
	Fields map[string]string // Go field name → its doc (or line) comment
}

var (
	srcMu    sync.Mutex
	srcCache = map[string]map[string]typeDoc{} // package dir → type → docs
)

// moduleRoot is the repository's root, from this file's compiled-in path.
func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("regdoc: cannot locate the source tree")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("regdoc: the source tree is not at %s (built with -trimpath?): %v", root, err)
	}
	return root, nil
}

// docsOf returns the doc comments of t's struct declaration (t a struct
// type or a pointer to one), parsed from its package's source.
func docsOf(t reflect.Type) (typeDoc, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	rel, ok := strings.CutPrefix(t.PkgPath(), module)
	if !ok {
		return typeDoc{}, fmt.Errorf("regdoc: %s is not in %s", t, module)
	}
	root, err := moduleRoot()
	if err != nil {
		return typeDoc{}, err
	}
	types, err := parseDir(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return typeDoc{}, err
	}
	td, ok := types[t.Name()]
	if !ok {
		return typeDoc{}, fmt.Errorf("regdoc: no declaration of %s in its package's source", t)
	}
	return td, nil
}

// parseDir reads the struct types declared in a package's non-test files.
func parseDir(dir string) (map[string]typeDoc, error) {
	srcMu.Lock()
	defer srcMu.Unlock()
	if m, ok := srcCache[dir]; ok {
		return m, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string]typeDoc{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				cg := ts.Doc
				if cg == nil && len(gd.Specs) == 1 {
					cg = gd.Doc
				}
				td := typeDoc{Doc: cg.Text(), Fields: map[string]string{}}
				for _, f := range st.Fields.List {
					text := f.Doc.Text()
					if text == "" {
						text = f.Comment.Text()
					}
					for _, n := range f.Names {
						td.Fields[n.Name] = text
					}
				}
				out[ts.Name.Name] = td
			}
		}
	}
	srcCache[dir] = out
	return out, nil
}

// oneLine joins a comment's lines into one line of text.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// synopsis is the first sentence of a doc comment, on one line; a sentence
// that introduces a list (ends in a colon) ends in a period instead.
func synopsis(s string) string {
	var p doc.Package
	out := oneLine(p.Synopsis(s))
	if c, ok := strings.CutSuffix(out, ":"); ok {
		out = c + "."
	}
	return out
}

package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/faultline/faultline/harness/scenario"
)

// LoadFS is Load over a file system instead of the disk: every *.yaml and
// *.yml file under root in fsys (recursively; root may be one file), sorted
// by path, validated with the registry. Each scenario's File, and every
// error position, is the file's path inside fsys ("scenarios/reconnect/
// heal-early.yaml" for the scenarios built into faultline), so reports and
// errors read as they do for files on disk. As with Load, problems of all
// files come back as one scenario.Errors (nothing is returned if any file is
// bad), scenario names used by more than one file included.
func LoadFS(fsys fs.FS, root string) ([]*scenario.Scenario, error) {
	var files []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := strings.ToLower(path.Ext(p)); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	reg := Registry()
	var (
		out   []*scenario.Scenario
		all   scenario.Errors
		first = map[string]scenario.Pos{}
	)
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		sc, err := scenario.Parse(f, src, reg)
		if err != nil {
			var es scenario.Errors
			if !errors.As(err, &es) {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			all = append(all, es...)
			continue
		}
		at := namePos(f, src)
		if prev, dup := first[sc.Name]; dup {
			all = append(all, scenario.Error{Pos: at, Msg: fmt.Sprintf("duplicate scenario name %q (also at %s)", sc.Name, prev)})
		} else {
			first[sc.Name] = at
		}
		out = append(out, sc)
	}
	if len(all) > 0 {
		sort.SliceStable(all, func(i, j int) bool { return posLess(all[i].Pos, all[j].Pos) })
		return nil, all
	}
	return out, nil
}

func posLess(a, b scenario.Pos) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}

// namePos is where a valid scenario file gives its name (its name: value),
// or 1:1 when the name comes from the file name, as the loader reports it.
func namePos(file string, src []byte) scenario.Pos {
	pos := scenario.Pos{File: file, Line: 1, Col: 1}
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return pos
	}
	root := doc.Content[0]
	for i := 0; i < 64 && root.Kind == yaml.AliasNode && root.Alias != nil; i++ {
		root = root.Alias
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Kind == yaml.MappingNode && root.Content[i].Value == "name" {
			v := root.Content[i+1]
			pos.Line, pos.Col = v.Line, v.Column
		}
	}
	return pos
}

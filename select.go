package faultline

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// load is every scenario of the set the options name: Dir's files on disk,
// else the built-in ones.
func (c config) load() ([]*scenario.Scenario, error) {
	if c.dir != "" {
		return runner.Load(c.dir)
	}
	return runner.LoadFS(ScenarioFS(), "scenarios")
}

// pick is the scenarios under one of paths (all when none is given) whose
// labels match the label expression. A path that selects nothing is an
// error: a typo must not pass as an empty, green selection.
func pick(scs []*scenario.Scenario, paths []string, label string) ([]*scenario.Scenario, error) {
	filter, err := parseLabels(label)
	if err != nil {
		return nil, fmt.Errorf("faultline.Label: %w", err)
	}
	clean := func(p string) string { return path.Clean(filepath.ToSlash(p)) }
	under := func(file, p string) bool {
		f, p := clean(file), clean(p)
		return f == p || p == "." || strings.HasPrefix(f, p+"/")
	}
	for _, p := range paths {
		found := false
		for _, sc := range scs {
			if under(sc.File, p) {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("faultline.Scenarios: no scenario file at or under %q (the set's folders: %s)", p, strings.Join(folders(scs), ", "))
		}
	}
	var out []*scenario.Scenario
	for _, sc := range scs {
		in := len(paths) == 0
		for _, p := range paths {
			in = in || under(sc.File, p)
		}
		if in && filter.Match(sc.Labels) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("faultline: no scenario matches (paths %q, label %q)", paths, label)
	}
	return out, nil
}

// folders are the scenarios' folders, for a message that says what exists.
func folders(scs []*scenario.Scenario) []string {
	var out []string
	seen := map[string]bool{}
	for _, sc := range scs {
		d := path.Dir(filepath.ToSlash(sc.File))
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// spoken splits scs into those the SDK can be judged by and the reasons the
// others cannot (a library is judged only over the protocol it speaks).
func spoken(hello driver.Hello, scs []*scenario.Scenario) (keep []*scenario.Scenario, left []string) {
	for _, sc := range scs {
		if why := runner.Speaks(hello, sc); why != "" {
			left = append(left, sc.Name)
			continue
		}
		keep = append(keep, sc)
	}
	return keep, left
}

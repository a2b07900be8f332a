package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// builtinRoot is the built-in set's folder, and --scenarios' default.
const builtinRoot = "scenarios"

// loadScenarios loads the scenario files under dir on disk. When dir is not
// on disk and names the built-in set or a part of it ("scenarios",
// "scenarios/reconnect", "scenarios/nats/close.yaml"), it loads those files
// from the set built into faultline instead, saying so once on stderr: the
// binary then works from any folder. Any other path that is not on disk is
// an error, as before.
func loadScenarios(dir string, stderr io.Writer) ([]*scenario.Scenario, error) {
	p := path.Clean(filepath.ToSlash(dir))
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) || filepath.IsAbs(dir) || (p != builtinRoot && !strings.HasPrefix(p, builtinRoot+"/")) {
		return runner.Load(dir)
	}
	set := faultline.ScenarioFS()
	if _, err := fs.Stat(set, p); err != nil {
		return nil, fmt.Errorf("%s: no such folder or file here, nor among the scenarios built into faultline (%s)", dir, builtinFolders(set))
	}
	scs, err := runner.LoadFS(set, p)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "faultline: no ./%s here: using the %d scenarios built into faultline %s\n", p, len(scs), faultline.Version())
	return scs, nil
}

// builtinFolders lists the built-in set's folders, for an error that says
// what there is.
func builtinFolders(set fs.FS) string {
	entries, err := fs.ReadDir(set, builtinRoot)
	if err != nil {
		return err.Error()
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, builtinRoot+"/"+e.Name())
		}
	}
	return strings.Join(names, ", ")
}

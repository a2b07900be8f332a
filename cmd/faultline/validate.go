package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/faultline/faultline/harness/runner"
	"github.com/faultline/faultline/harness/scenario"
)

// cmdValidate checks files and folders, printing every problem as
// file:line:col: message. Exit 2 when any file has a problem, a path does
// not exist or a folder holds no scenario file.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: faultline validate PATH...")
		return 2
	}
	reg := runner.Registry()
	bad := 0
	for _, p := range args {
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(stdout, "%s: no such file or folder\n", p)
			bad++
			continue
		case err != nil:
			fmt.Fprintf(stdout, "%s: %v\n", p, err)
			bad++
			continue
		}
		if st.IsDir() {
			var scs []*scenario.Scenario
			scs, err = scenario.LoadDir(p, reg)
			// A folder with nothing to check is a mistyped path, not a pass.
			if err == nil && len(scs) == 0 {
				fmt.Fprintf(stdout, "%s: no scenario file (*.yaml, *.yml) in this folder or below\n", p)
				bad++
				continue
			}
		} else {
			_, err = scenario.Load(p, reg)
		}
		if err == nil {
			continue
		}
		bad++
		var errs scenario.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stdout, e.Error())
			}
		} else {
			fmt.Fprintln(stdout, err)
		}
	}
	if bad > 0 {
		return 2
	}
	fmt.Fprintf(stdout, "ok: %d path(s) valid\n", len(args))
	return 0
}

func init() {
	register(&command{name: "validate", summary: "check scenario files and report every problem with file:line:col",
		usage: `faultline validate PATH...

Each PATH is a scenario file or a folder searched for *.yaml and *.yml.
Every problem is printed as file:line:col: message (an unknown name with the
nearest valid one, a check the scenario's shape leaves nothing to judge);
a path that does not exist or a folder with no scenario is a problem too.
Exit: 0 every file valid, 2 a problem (printed on stdout).`, run: cmdValidate})
}

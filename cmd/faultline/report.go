package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/faultline/faultline/reports"
)

// cmdReport renders reports from report.json files: with --merge, one SDK ×
// requirement matrix over several; with --changes, what changed between runs
// of one suite (changes.go); without, one report's four files again (after a
// change to the renderers, or into another folder). Flags may come before or
// after the files.
func cmdReport(args []string, stdout, stderr io.Writer) int {
	merge, changes, diff, out := false, false, false, ""
	var files []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case isHelp(a): // commands.go: anywhere, as for the commands that parse flags
			writeHelp(stdout, commands["report"], nil)
			return 0
		case a == "--merge" || a == "-merge":
			merge = true
		case a == "--changes" || a == "-changes":
			changes = true
		case a == "--diff" || a == "-diff":
			diff = true
		case a == "--out" || a == "-out":
			if i+1 == len(args) {
				fmt.Fprintln(stderr, "faultline report: --out needs a folder")
				return 2
			}
			i++
			out = args[i]
		case strings.HasPrefix(a, "--out="):
			out = strings.TrimPrefix(a, "--out=")
		case strings.HasPrefix(a, "-") && a != "-":
			fmt.Fprintf(stderr, "faultline report: unknown flag %s (`faultline help report` lists them)\n", a)
			return 2
		default:
			files = append(files, a)
		}
	}
	if diff {
		if merge || changes || out != "" || len(files) != 2 {
			fmt.Fprintln(stderr, "usage: faultline report --diff FAKE/report.json REAL/report.json  (verdicts that differ between two servers)")
			return 2
		}
		return reportDiff(files[0], files[1], stdout, stderr)
	}
	if changes {
		if merge || out != "" {
			fmt.Fprintln(stderr, "faultline report: --changes takes report files only (no --merge, no --out)")
			return 2
		}
		return reportChanges(files, stdout, stderr)
	}
	if out == "" || len(files) == 0 || (!merge && len(files) != 1) {
		fmt.Fprintln(stderr, "usage: faultline report [--merge] REPORT.json... --out DIR  (several reports need --merge)\n       faultline report --changes REPORT.json REPORT.json...  (what changed between runs)\n       faultline report --diff A/report.json B/report.json  (verdicts that differ between two servers)")
		return 2
	}
	var reps []*reports.Report
	for _, f := range files {
		r, err := reports.ReadJSON(f)
		if err != nil {
			fmt.Fprintf(stderr, "faultline report: %v\n", err)
			return 2
		}
		reps = append(reps, r)
	}
	var paths []string
	var err error
	if merge {
		var m *reports.Merged
		if m, err = reports.Merge(reps, files); err != nil {
			fmt.Fprintf(stderr, "faultline report: %v\n", err)
			return 2
		}
		paths, err = m.WriteAll(out)
	} else {
		paths, err = reps[0].WriteAll(out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "faultline report: %v\n", err)
		return 2
	}
	fmt.Fprintln(stdout, strings.Join(paths, " "))
	return 0
}

func init() {
	register(&command{name: "report", summary: "merge reports into one matrix, diff two runs, or list what changed across runs",
		usage: `faultline report REPORT.json --out DIR                  render one report's files again into DIR
       faultline report --merge REPORT.json... --out DIR       several reports (one per SDK) as one SDK × requirement matrix
       faultline report --changes REPORT.json REPORT.json...   what changed between runs of one suite (exit 1 if anything did)
       faultline report --diff A/report.json B/report.json     verdicts that differ between two servers (exit 1 if one does)

Flags may come before or after the files. Exit 2 on bad input.`, run: cmdReport})
}

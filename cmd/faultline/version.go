package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// cmdVersion prints what this binary was built from: the module and its
// version, the commit (with its time, and whether the tree had changes not
// committed) and the Go toolchain, all as the Go toolchain stamped them.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "usage: %s   (takes no arguments)\n", commands["version"].synopsis())
		return 2
	}
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(bi, ok, runtime.GOOS+"/"+runtime.GOARCH))
	return 0
}

// versionText renders build information. Without VCS stamps (`go run`,
// `go test`, -buildvcs=false, a build outside a checkout) it says so rather
// than leave the commit out silently.
func versionText(bi *debug.BuildInfo, ok bool, platform string) string {
	if !ok || bi == nil {
		return fmt.Sprintf("faultline (no build information)\ngo       %s %s\n", runtime.Version(), platform)
	}
	path, version := bi.Main.Path, bi.Main.Version
	if path == "" { // a test binary: its main module is not recorded
		path = bi.Path
	}
	if version == "" {
		version = "(devel)"
	}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "faultline %s\n", version)
	fmt.Fprintf(&b, "module   %s\n", path)
	if rev := set["vcs.revision"]; rev != "" {
		line := rev
		if t := set["vcs.time"]; t != "" {
			line += " (" + t + ")"
		}
		if set["vcs.modified"] == "true" {
			line += ", with changes not committed"
		}
		fmt.Fprintf(&b, "revision %s\n", line)
	} else {
		b.WriteString("revision unknown: built without version control stamps (go run, -buildvcs=false, or outside a checkout)\n")
	}
	gover := bi.GoVersion
	if gover == "" {
		gover = runtime.Version()
	}
	fmt.Fprintf(&b, "go       %s %s\n", gover, platform)
	return b.String()
}

func init() {
	register(&command{name: "version", summary: "print the module version, commit and Go toolchain this binary was built from",
		usage: "faultline version   (also: faultline --version)", run: cmdVersion})
}

package faultline

import (
	"embed"
	"io/fs"
	"runtime/debug"
)

// The scenario files of this repository, built in: a module that requires
// faultline, and the faultline binary run from any folder, have them.
//
//go:embed scenarios
var builtin embed.FS

// ScenarioFS is the scenario files built into faultline, at their paths in
// the repository: scenarios/reconnect/heal-early.yaml and so on. Load them
// with runner.LoadFS(faultline.ScenarioFS(), "scenarios").
func ScenarioFS() fs.FS { return builtin }

// modulePath is this module's path, to find its version in the build info.
const modulePath = "github.com/faultline/faultline"

// Version is the version of faultline built into the running program: the
// module version when faultline is a dependency (v0.0.0 under a replace),
// "(devel)" when it is the main module built from a work tree.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath && d.Version != "" {
			return d.Version
		}
	}
	return "(devel)"
}

package faultline

import "github.com/faultline/faultline/internal/cmdline"

// The readings of `faultline run --sdk` and `--label`, shared with the CLI
// (internal/cmdline): a command line and a label filter mean the same to
// both.
var (
	splitCommand = cmdline.Split
	parseLabels  = cmdline.ParseLabels
)

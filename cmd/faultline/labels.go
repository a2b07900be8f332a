package main

import "github.com/faultline/faultline/internal/cmdline"

// labelFilter is a --label expression in Ginkgo's own label-filter grammar
// (cmdline.ParseLabels: the same as the Go API's faultline.Label and
// `go test -ginkgo.label-filter`); nil matches everything.
type labelFilter = cmdline.Filter

var parseLabels = cmdline.ParseLabels

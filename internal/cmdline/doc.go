// Package cmdline is what the command line and the Go API read alike: a
// driver command split into argv without a shell, and a label filter in
// Ginkgo's grammar. One copy, so that `faultline run --sdk/--label` and
// faultline.Driver/Label mean the same.
package cmdline

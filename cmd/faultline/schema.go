package main

import (
	"fmt"
	"io"

	"github.com/faultline/faultline/harness/scenario"
)

// cmdSchema prints the scenario format's JSON Schema, for editors and tools
// that want a file of their own (faultline schema > scenario.schema.json).
func cmdSchema(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "usage: %s   (takes no arguments)\n", commands["schema"].synopsis())
		return 2
	}
	if _, err := stdout.Write(scenario.Schema()); err != nil {
		fmt.Fprintf(stderr, "faultline: %v\n", err)
		return 1
	}
	return 0
}

func init() {
	register(&command{name: "schema", summary: "print the scenario format's JSON Schema (for editors)",
		usage: "faultline schema > scenario.schema.json", run: cmdSchema})
}

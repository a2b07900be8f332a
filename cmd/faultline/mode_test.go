package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A selection the mode can run none of is bad input (exit 2, nothing run):
// here the process-fault folder in external mode, with a topology whose
// services are not even there (nothing is dialled before the refusal).
func TestExternalModeRefusesASelectionOfProcessFaultsOnly(t *testing.T) {
	var out, errb bytes.Buffer
	start := time.Now()
	code := Main([]string{"run", "--mode", "external", "--topology", "../../docker/external.yaml",
		"--toxiproxy", "http://127.0.0.1:1", "--scenarios", "../../scenarios/process", "--report", t.TempDir()}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "nothing to run in external mode: process-kill-failover: process faults need a mode that owns the servers") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v: the refusal must come before anything runs", el)
	}
}

package runner

import (
	"testing"
	"time"

	"github.com/faultline/faultline/harness/scenario"
)

func TestBound(t *testing.T) {
	sc := &scenario.Scenario{Duration: 10 * time.Second, Clients: 300}
	if got, want := Bound(sc, false), sc.End()+30*time.Second; got != want {
		t.Errorf("in process: %v, want %v", got, want)
	}
	if got, want := Bound(sc, true), sc.End()+30*time.Second+60*time.Second; got != want {
		t.Errorf("a process per client: %v, want %v (300 × 200ms more)", got, want)
	}
}

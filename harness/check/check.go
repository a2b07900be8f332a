// Package check holds faultline's checkers: pure functions from a recorded
// history (plus the scenario that produced it) to a verdict with measurements.
// No sockets, no sleeps, no clocks. Each checker is one file; its struct is its
// configuration (decoded strictly from the scenario's expect entry through its
// yaml tags) and it registers itself under its name, as Toxiproxy's toxics do.
package check

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// Verdicts (fixed, DESIGN.md).
const (
	OK            = "OK"
	NonStrict     = "NON-STRICT"
	Failed        = "FAILED"
	Unimplemented = "UNIMPLEMENTED"
	Informational = "INFORMATIONAL"
	// Unsupported (additive): the mode the run used cannot do a step of the
	// scenario (a process fault where the servers are someone else's), so
	// nothing was run or judged. It says nothing about the SDK; it fails nothing.
	Unsupported = "UNSUPPORTED"
)

// Evidence says whose word a measurement rests on.
const (
	EvServer = "server" // seen by a fake server
	EvLink   = "link"   // the link's fault record
	EvClient = "client" // the engine's own report
)

// Input is what a checker judges.
type Input struct {
	History     history.History
	Scenario    *scenario.Scenario
	Requirement string
}

// Measurement is one measured quantity and the evidence it rests on.
type Measurement struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit,omitempty"` // "ms", "count", ...
	Evidence string  `json:"evidence"`       // e.g. "server accept − link heal"
	Expected string  `json:"expected,omitempty"`
	// Bounds is the expectation as numbers (in Unit) when it is a band, for
	// reports that draw measured against expected (the back-off chart).
	Bounds *Bounds `json:"bounds,omitempty"`
}

// Bounds is an expected value and the band a measurement must fall in.
type Bounds struct {
	Expected float64 `json:"expected"`
	Lo       float64 `json:"lo"`
	Hi       float64 `json:"hi"`
}

// Result is a checker's verdict.
type Result struct {
	Verdict      string        `json:"verdict"`
	Measurements []Measurement `json:"measurements"`
	Detail       string        `json:"detail"`
	// At is where in the timeline the verdict was decided (the failure, or the
	// measured window's end); failure messages show the history around it.
	At time.Duration `json:"at"`
}

// Checker judges one aspect of a history.
type Checker interface {
	Check(in Input) Result
}

var (
	mu       sync.RWMutex
	registry = map[string]func() Checker{}
)

// Register makes a checker available under name. It panics on a duplicate:
// two checkers with one name is a programming error.
func Register(name string, mk func() Checker) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("check: duplicate checker " + name)
	}
	registry[name] = mk
}

// New returns a fresh, zero-configured checker (a pointer to its struct).
func New(name string) (Checker, bool) {
	mu.RLock()
	defer mu.RUnlock()
	mk, ok := registry[name]
	if !ok {
		return nil, false
	}
	return mk(), true
}

// Names lists the registered checkers, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Fail is a FAILED result with a formatted detail.
func Fail(at time.Duration, ms []Measurement, format string, args ...any) Result {
	return Result{Verdict: Failed, Measurements: ms, Detail: fmt.Sprintf(format, args...), At: at}
}

// Pass is an OK result.
func Pass(at time.Duration, ms []Measurement, format string, args ...any) Result {
	return Result{Verdict: OK, Measurements: ms, Detail: fmt.Sprintf(format, args...), At: at}
}

// Ms converts a duration to float milliseconds for measurements.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

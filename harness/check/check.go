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
	// Span is the measured interval when the measurement is a window (from
	// its start event to its end event), for timelines that draw it where it
	// happened; nil otherwise.
	Span *Span `json:"span,omitempty"`
}

// Span is an interval of the timeline, as offsets from the scenario's start.
type Span struct {
	From time.Duration `json:"from"`
	To   time.Duration `json:"to"`
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

// Spec registers a checker: its name, the requirements it judges, and how
// to make a fresh one. A check is filed in a scenario only under a
// requirement its Spec judges; anything else is a load error.
type Spec struct {
	Name string
	// Judges lists the requirement IDs the checker judges.
	Judges []string
	// New returns a fresh, zero-configured checker (a pointer to its
	// struct, whose yaml tags are its parameters; absent parameters are nil
	// pointers or zero values, and the checker applies its defaults).
	New func() Checker
	// Universal checkers are judged in every scenario without being named
	// in its expect list (the lifecycle rules every library must keep).
	Universal bool
}

// OneClient is implemented by a checker whose configuration can only judge a
// scenario with one client (it attributes server-side accepts to a client):
// it returns why, or "" when this configuration does not need it. The loader
// calls it, so that such a scenario is bad input rather than a FAILED run.
type OneClient interface {
	NeedsOneClient() string
}

var (
	mu       sync.RWMutex
	registry = map[string]Spec{}
)

// Register makes a checker available under its name. It panics on a
// duplicate, on a missing constructor and on a Spec that judges nothing:
// each is a programming error.
func Register(s Spec) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[s.Name]; dup {
		panic("check: duplicate checker " + s.Name)
	}
	if s.New == nil || len(s.Judges) == 0 {
		panic("check: checker " + s.Name + " needs New and the requirements it judges")
	}
	registry[s.Name] = s
}

// Lookup returns a checker's Spec.
func Lookup(name string) (Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := registry[name]
	return s, ok
}

// New returns a fresh, zero-configured checker (a pointer to its struct).
func New(name string) (Checker, bool) {
	s, ok := Lookup(name)
	if !ok {
		return nil, false
	}
	return s.New(), true
}

// Judges returns the requirements a checker judges (nil when unknown).
func Judges(name string) []string {
	s, _ := Lookup(name)
	return append([]string(nil), s.Judges...)
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

// or is a parameter's value: *p when the scenario gave it (zero is zero),
// def when it left it out. Parameters with a default are pointers, so that an
// explicit 0 is never mistaken for "not given".
func or[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// Ptr returns a pointer to v: how tests and code set optional parameters.
func Ptr[T any](v T) *T { return &v }

// Ms converts a duration to float milliseconds for measurements.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

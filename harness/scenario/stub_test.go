package scenario

import (
	"errors"
	"time"

	"github.com/faultline/faultline/harness/requirement"
)

// Stub configs standing in for the check and proxy packages' structs.
type windowParams struct {
	Within time.Duration `yaml:"within"`
}

type orderParams struct {
	Topic string `yaml:"topic"`
}

type slowAttrs struct {
	Latency time.Duration `yaml:"latency"`
	Jitter  time.Duration `yaml:"jitter"`
}

type sliceAttrs struct {
	Size int `yaml:"size"`
}

// Validate exercises the loader's call of a config's own checks.
func (a *sliceAttrs) Validate() error {
	if a.Size <= 0 {
		return errors.New("size must be positive")
	}
	return nil
}

type cutAttrs struct{}

func testRegistry() Registry {
	return Registry{
		Check: func(name string) (any, bool) {
			switch name {
			case "reconnect_window":
				return &windowParams{}, true
			case "session_preserved":
				return &struct{}{}, true
			case "exactly_once_in_order":
				return &orderParams{}, true
			}
			return nil, false
		},
		Fault: func(verb string) (any, bool) {
			switch verb {
			case "cut":
				return &cutAttrs{}, true
			case "slow":
				return &slowAttrs{}, true
			case "slice":
				return &sliceAttrs{}, true
			}
			return nil, false
		},
		Checks:       []string{"reconnect_window", "session_preserved", "exactly_once_in_order"},
		Verbs:        []string{"cut", "slow", "slice"},
		Kinds:        []string{"session"},
		Requirements: requirement.IDs(),
	}
}

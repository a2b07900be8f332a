package faultline

import (
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// Option configures Run.
type Option func(*config)

// config is Run's configuration; defaults() is what Run does without options.
type config struct {
	engine    driver.Factory // in-process adapter (Engine); nil: see driver, else the Go engine
	driverCmd string         // a stdio driver's command line (Driver)
	paths     []string       // Scenarios: files or folders, as the scenarios' File reads
	label     string         // Label: a label expression
	dir       string         // Dir: scenario files on disk instead of the built-in ones
	seed      int64
	opTimeout time.Duration
	reportDir string // "" → faultline-report/<test name>
	errs      []string
}

func defaults() config {
	return config{seed: 1, opTimeout: 10 * time.Second}
}

// Engine runs the scenarios against an in-process adapter: f starts one
// driver.Driver per client of a scenario, with the events of that client's
// session going to the sink it is given (as godriver.Factory(seed) does for
// faultline's own Go engine, the default). The adapter's Hello says what the
// library is, which features it has and which protocol it speaks.
func Engine(f driver.Factory) Option {
	return func(c *config) {
		if f == nil {
			c.errs = append(c.errs, "faultline.Engine(nil)")
		}
		c.engine, c.driverCmd = f, ""
	}
}

// Driver runs the scenarios against a driver program speaking the stdio
// driver protocol (docs/driver-protocol.md), one process per client, or per
// group of clients when its hello declares sessions. cmd is split into
// words as `faultline run --sdk` splits it, without a shell:
// "node sdk/node/driver.js", "'/opt/my sdk/driver' --fast".
func Driver(cmd string) Option {
	return func(c *config) {
		if _, err := splitCommand(cmd); err != nil {
			c.errs = append(c.errs, "faultline.Driver: "+err.Error())
		}
		c.driverCmd, c.engine = cmd, nil
	}
}

// Scenarios selects scenario files or folders by their path as the
// scenarios' File reads: "scenarios/reconnect" or
// "scenarios/reconnect/heal-early.yaml" in the built-in set, paths under
// Dir's folder with Dir. Repeatable; by default every scenario is selected.
// Each path must select at least one scenario.
func Scenarios(paths ...string) Option {
	return func(c *config) { c.paths = append(c.paths, paths...) }
}

// Label selects the scenarios whose labels match expr, in Ginkgo's
// label-filter grammar as `faultline run --label` reads it: &&, ||, !,
// parentheses, "," for ||, /regex/ ("reconnect && !slow").
func Label(expr string) Option {
	return func(c *config) { c.label = expr }
}

// Dir loads the scenario files under path on disk (recursively) instead of
// the ones built into faultline.
func Dir(path string) Option {
	return func(c *config) { c.dir = path }
}

// Seed makes jitter and shuffles reproducible (default 1). It seeds the
// default Go engine and a Driver (FAULTLINE_SEED); an Engine's factory
// carries its own.
func Seed(n int64) Option {
	return func(c *config) { c.seed = n }
}

// OpTimeout bounds a driver's start and hello and each op's reply (default
// 10s).
func OpTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, "faultline.OpTimeout: must be positive, got "+d.String())
		}
		c.opTimeout = d
	}
}

// ReportDir is the folder for report.json, junit.xml, summary.md and
// index.html (default: faultline-report/<test name> in the test's working
// directory, that is the package's folder, so that CI can keep it).
func ReportDir(path string) Option {
	return func(c *config) { c.reportDir = path }
}

package stdio

import (
	"io"
	"time"
)

// Option configures Factory.
type Option func(*config)

type config struct {
	hello      time.Duration // bound on the wait for the hello
	close      time.Duration // bound on Close when its ctx has no deadline
	stderrSize int           // bytes of stderr kept for evidence
	keep       int           // bytes of stderr kept for the report (KeepStderr); 0: none
	seed       int64
	dir        string
	env        []string
	stderrTo   io.Writer
}

func defaults() config {
	return config{hello: 10 * time.Second, close: 5 * time.Second, stderrSize: 4 << 10, seed: 1}
}

// HelloTimeout bounds the wait for the driver's hello (default 10s; the
// factory's ctx bounds it too).
func HelloTimeout(d time.Duration) Option { return func(c *config) { c.hello = d } }

// StderrTail sets how many bytes of the driver's stderr are kept as evidence
// (default 4 KiB).
func StderrTail(n int) Option { return func(c *config) { c.stderrSize = max(n, 1) } }

// KeepStderr keeps the last n bytes of each driver's stderr, whatever
// happens to it, for the report (Proc.KeptStderr): a driver's own log of a
// scenario is evidence even when nothing failed. Without it only the
// evidence tail of a failure is kept.
func KeepStderr(n int) Option { return func(c *config) { c.keep = max(n, 0) } }

// Seed is passed to every driver as FAULTLINE_SEED (default 1).
func Seed(seed int64) Option { return func(c *config) { c.seed = seed } }

// Dir is the driver's working directory (default: the harness's).
func Dir(dir string) Option { return func(c *config) { c.dir = dir } }

// Env adds KEY=value entries to the driver's environment (which is the
// harness's otherwise).
func Env(kv ...string) Option { return func(c *config) { c.env = append(c.env, kv...) } }

// StderrTo also copies the driver's stderr to w (for example the harness's
// own stderr when debugging a driver). Errors writing to w are ignored: they
// must not cost the evidence.
func StderrTo(w io.Writer) Option { return func(c *config) { c.stderrTo = w } }

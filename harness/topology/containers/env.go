package containers

import (
	"os"

	tclog "github.com/testcontainers/testcontainers-go/log"
)

// RyukEnv must be "true" before testcontainers is first used: its reaper
// image cannot be pulled on a machine without a registry, and the library
// reads its configuration once.
const RyukEnv = "TESTCONTAINERS_RYUK_DISABLED"

// HostEnv overrides where testcontainers says a container's published ports
// are. Ports are published on 127.0.0.1 here (see loopback), so that is
// where they are; left to itself, testcontainers answers with the Docker
// bridge's gateway whenever /.dockerenv exists, as it does on this machine,
// where the engine is nonetheless local.
const HostEnv = "TESTCONTAINERS_HOST_OVERRIDE"

func init() {
	// Quiet unless asked (WithLogf): its banner and progress lines are
	// noise in a run whose evidence is the history.
	tclog.SetDefault(logger(func(string, ...any) {}))
	_ = os.Setenv(RyukEnv, "true")
	if _, set := os.LookupEnv(HostEnv); !set {
		_ = os.Setenv(HostEnv, "127.0.0.1")
	}
}

// logger is testcontainers' log interface over a Printf-like function.
type logger func(format string, a ...any)

func (l logger) Printf(format string, a ...any) { l(format, a...) }

// Package fakeserver holds faultline's fake protocol servers. Each records what
// it sees into the run's history: server-side evidence that checkers weigh
// above the client's own word.
package fakeserver

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Server is what the runner needs of every fake server, whatever its kind.
type Server interface {
	Name() string
	Addr() string // host:port
	URL() string
	Close() error
}

// Publisher is a server whose topics the timeline can publish to.
type Publisher interface {
	Publish(topic string, data json.RawMessage) int64
}

// SessionCloser is a server that can close its sessions deliberately.
type SessionCloser interface {
	CloseSessions()
}

// Config is the kind-independent configuration a scenario gives a server.
// Zero values mean the kind's defaults.
type Config struct {
	Ping      time.Duration
	Retention time.Duration
	Buffer    int
	// Listen is the host:port to listen on (default "127.0.0.1:0"). A fixed
	// port lets a killed server come back where its link points; a serve
	// process in a container listens on ":port".
	Listen string
	// Store is the migration context store the run's session servers share
	// (fakeserver.MemoryStore in-process); nil: none until the runner sets
	// one through Migrator.SetPeers.
	Store ContextStore
}

type startFunc = func(name string, rec history.Recorder, cfg Config) (Server, error)

var registry = struct {
	sync.Mutex
	kinds map[string]startFunc
}{kinds: map[string]startFunc{}}

// Register makes a server kind startable by name. Registering a kind twice is
// a programming error and panics, like database/sql drivers.
func Register(kind string, start func(name string, rec history.Recorder, cfg Config) (Server, error)) {
	if kind == "" || start == nil {
		panic("fakeserver: Register needs a kind and a start function")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[kind]; dup {
		panic("fakeserver: kind registered twice: " + kind)
	}
	registry.kinds[kind] = start
}

// Start starts a server of a registered kind.
func Start(kind, name string, rec history.Recorder, cfg Config) (Server, error) {
	registry.Lock()
	start := registry.kinds[kind]
	registry.Unlock()
	if start == nil {
		return nil, fmt.Errorf("fakeserver: unknown server kind %q (known: %v)", kind, Kinds())
	}
	return start(name, rec, cfg)
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	registry.Lock()
	defer registry.Unlock()
	out := make([]string, 0, len(registry.kinds))
	for k := range registry.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

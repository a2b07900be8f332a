package containers

import (
	"os"
	"strconv"
	"sync"
	"time"

	tc "github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/topology"
)

// Topology runs scenarios on containers. One Topology keeps one network and
// one links container for all its runs; each run gets its own serve
// containers, and follows the links container's events from where the run
// begins. Close removes everything.
type Topology struct {
	opts Options
	run  string

	upMu sync.Mutex // one Up at a time: the shared network and Toxiproxy are made once

	mu      sync.Mutex
	closed  bool
	nw      *tc.DockerNetwork
	lc      tc.Container    // the links container (serve --links)
	lctl    *control.Client // its control API: the links' events
	api     string          // its Toxiproxy API
	ports   []int
	portMap map[string]string       // container link port → host address clients dial
	direct  bool                    // containers are dialled at their network addresses
	live    map[string]tc.Container // container id → container, until removed
	seq     int
	delays  control.Delays

	pending sync.WaitGroup // removals of finished runs' containers, in the background
	bgErrs  []error        // what those removals failed at (guarded by mu)
}

var _ topology.Topology = (*Topology)(nil)

// New makes a topology; nothing is started before the first Up. Options
// apply in order; what none sets has its default.
func New(opts ...Option) *Topology {
	_ = os.Setenv(RyukEnv, "true") // again, in case someone cleared it since init
	o := resolve(opts)
	tclog.SetDefault(logger(o.Logf))
	return &Topology{opts: o, run: "fl-" + strconv.FormatInt(time.Now().UnixNano(), 36), live: map[string]tc.Container{}}
}

// Name is "containers".
func (*Topology) Name() string { return "containers" }

// RunLabel is the value of LabelRun on this topology's containers and network.
func (t *Topology) RunLabel() string { return t.run }

// Delays is the distribution of the delay streamed events took so far.
func (t *Topology) Delays() control.DelaySummary { return t.delays.Summary() }

// Reach says how this topology reaches its containers: "direct" or
// "mapped" (known after the first Up).
func (t *Topology) Reach() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.direct {
		return ReachDirect
	}
	return ReachMapped
}

// LabelRun marks every container and network of one Topology.
const LabelRun = "faultline.run"

// LabelPID and LabelHost name the process that made a container or network:
// a later run removes what a run killed outright (SIGKILL, a test binary's
// timeout) left behind, as Ryuk would have.
const (
	LabelPID  = "faultline.pid"
	LabelHost = "faultline.host"
)

func (t *Topology) labels() map[string]string {
	host, _ := os.Hostname()
	return map[string]string{LabelRun: t.run, "faultline": "containers",
		LabelPID: strconv.Itoa(os.Getpid()), LabelHost: host}
}

// track remembers a created container until it is removed (untrack), so
// that Close removes it.
func (t *Topology) track(c tc.Container) {
	if c == nil || c.GetContainerID() == "" {
		return
	}
	t.mu.Lock()
	t.live[c.GetContainerID()] = c
	t.mu.Unlock()
}

func (t *Topology) untrack(c tc.Container) {
	t.mu.Lock()
	delete(t.live, c.GetContainerID())
	t.mu.Unlock()
}

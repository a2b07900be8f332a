package containers

import (
	"os"
	"time"
)

// DefaultServeImage is built by `make images`. It runs the fake servers and
// hosts the links (`faultline serve --links`): the links record what they
// see of clients into its event stream, which a stock Toxiproxy cannot.
const DefaultServeImage = "faultline:local"

// Defaults of the options left unset.
const (
	DefaultLinks   = 16               // link ports published by the links container
	DefaultTimeout = 60 * time.Second // starting one container and its readiness
)

// ReachEnv sets the reach when no option does.
const ReachEnv = "FAULTLINE_CONTAINERS_REACH"

// Ways to reach containers (WithReach).
const (
	ReachAuto   = "auto"
	ReachMapped = "mapped"
	ReachDirect = "direct"
)

// Options configure the topology. Zero values mean the defaults. Options is
// itself an Option (New(Options{...})), setting its non-zero fields; the
// With functions set one each.
type Options struct {
	ServeImage string                        // the servers' and the links' (serve --links) image
	Links      int                           // link ports published by the links container (default 16)
	Logf       func(format string, a ...any) // testcontainers' own log; default: dropped
	// Timeout bounds starting one container and its readiness (default 60s).
	Timeout time.Duration
	// Reach is how the host reaches the containers: "mapped" dials the ports
	// Docker publishes on 127.0.0.1 (portable: testcontainers' way); "direct"
	// dials the containers' addresses on their network (a Linux engine on
	// this machine); "auto" (the default) is direct when the links
	// container answers there, else mapped. Direct is the faithful one:
	// Docker's userland proxy behind a mapped port accepts a connection even
	// when the link is down (the client sees EOF, not a refusal), and copies
	// every byte once more.
	Reach string
}

// Option configures a Topology (testcontainers-go style: New(opts...)).
type Option interface{ apply(*Options) }

type optionFunc func(*Options)

func (f optionFunc) apply(o *Options) { f(o) }

// apply sets o's non-zero fields, so that a zero field keeps what an
// earlier option or the default says.
func (o Options) apply(dst *Options) {
	if o.ServeImage != "" {
		dst.ServeImage = o.ServeImage
	}
	if o.Links > 0 {
		dst.Links = o.Links
	}
	if o.Logf != nil {
		dst.Logf = o.Logf
	}
	if o.Timeout > 0 {
		dst.Timeout = o.Timeout
	}
	if o.Reach != "" {
		dst.Reach = o.Reach
	}
}

// WithServeImage sets the image of the servers and the links (default
// DefaultServeImage).
func WithServeImage(image string) Option {
	return optionFunc(func(o *Options) { o.ServeImage = image })
}

// WithLinks sets how many link ports the links container publishes (at most
// one server per port in a scenario; default DefaultLinks).
func WithLinks(n int) Option { return optionFunc(func(o *Options) { o.Links = n }) }

// WithLogf receives testcontainers' own log (default: dropped).
func WithLogf(logf func(format string, a ...any)) Option {
	return optionFunc(func(o *Options) { o.Logf = logf })
}

// WithTimeout bounds starting one container and its readiness (default
// DefaultTimeout).
func WithTimeout(d time.Duration) Option { return optionFunc(func(o *Options) { o.Timeout = d }) }

// WithReach sets how the host reaches the containers (ReachAuto, ReachMapped,
// ReachDirect; see Options.Reach). Default: $FAULTLINE_CONTAINERS_REACH, else
// ReachAuto.
func WithReach(reach string) Option { return optionFunc(func(o *Options) { o.Reach = reach }) }

// resolve applies opts in order over nothing, then fills in the defaults of
// what is still unset.
func resolve(opts []Option) Options {
	var o Options
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if o.ServeImage == "" {
		o.ServeImage = DefaultServeImage
	}
	if o.Links <= 0 {
		o.Links = DefaultLinks
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Reach == "" {
		o.Reach = os.Getenv(ReachEnv)
	}
	if o.Reach == "" {
		o.Reach = ReachAuto
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

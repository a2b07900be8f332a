package proxy

// Options configure a Toxiproxy backend. NewEmbedded and NewRemote start from
// the defaults below and apply each Option in order.
type Options struct {
	// Logging turns on Toxiproxy's own logs (to stderr). Off by default: they
	// are noise in a run whose evidence is the history.
	Logging bool
	// Listen is the host links listen on (port 0, so no fixed ports). Default
	// "127.0.0.1". For Remote it is the host on the remote Toxiproxy's side.
	Listen string
	// Advertise is the host clients dial, for Remote links whose listen host
	// is not reachable as is (a container). Default: the listen host, or the
	// API URL's host when the listen host is unspecified (0.0.0.0, ::).
	// Embedded links ignore it.
	Advertise string
	// Ports, when set, are the ports Remote links listen on, taken in order
	// (instead of port 0): a Toxiproxy in a container can only be reached on
	// ports published when the container was made.
	Ports []int
	// MapAddr, when set, turns a Remote link's listen address on the
	// Toxiproxy's side ("0.0.0.0:8666") into the address clients dial (the
	// host's mapping of that container port). It wins over Advertise.
	MapAddr func(listen string) (string, error)
}

// Option changes Options.
type Option func(*Options)

func defaults(opts []Option) Options {
	o := Options{Listen: "127.0.0.1"}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithLogging turns Toxiproxy's own logging on or off.
func WithLogging(on bool) Option { return func(o *Options) { o.Logging = on } }

// WithListen sets the host links listen on.
func WithListen(host string) Option { return func(o *Options) { o.Listen = host } }

// WithAdvertise sets the host clients dial for remote links.
func WithAdvertise(host string) Option { return func(o *Options) { o.Advertise = host } }

// WithPorts sets the ports remote links listen on, in order.
func WithPorts(ports ...int) Option {
	return func(o *Options) { o.Ports = append([]int(nil), ports...) }
}

// WithMapAddr sets how a remote link's listen address becomes the address
// clients dial.
func WithMapAddr(f func(listen string) (string, error)) Option {
	return func(o *Options) { o.MapAddr = f }
}

package router

import (
	"errors"
	"net/http"
	"time"
)

// ThingWorx Connection Server defaults (cx-server.transport.websockets.connections.*).
const (
	DefaultHighWatermark  = 64 << 10 // bytes
	DefaultLowWatermark   = 32 << 10 // bytes
	DefaultRetry          = 100 * time.Millisecond
	DefaultConnectTimeout = 2 * time.Second
	DefaultRequestTimeout = 10 * time.Second // ThingWorx: request timeout 10 s
)

// Response statuses given to the edge.
const (
	StatusOK          = http.StatusOK                  // every part taken and acknowledged by the instance
	StatusNoInstance  = http.StatusInternalServerError // 500: no instance was connected and writable (T3)
	StatusInstanceErr = http.StatusBadGateway          // 502: the instance that took the request was lost, removed or (for a later part) not writable (T5)
	StatusTimeout     = http.StatusGatewayTimeout      // 504: no acknowledgment within the request timeout
)

// Instance states reported through Events.OnInstance.
const (
	StateAdded        = "added"        // joined the circular list (discovery)
	StateRemoved      = "removed"      // left it (discovery); it gets nothing from here on
	StateConnected    = "connected"    // welcomed by the instance
	StateDisconnected = "disconnected" // its connection was lost
	StateUnwritable   = "unwritable"   // write buffer went above the high watermark
	StateWritable     = "writable"     // write buffer went back below the low watermark
)

// Edge states reported through Events.OnEdge.
const EdgeClosed = "closed"

// ReasonNoInstances is why edges are closed: the router lost every instance (T4).
const ReasonNoInstances = "no_instances"

// Options configures a router. Zero values mean the defaults.
type Options struct {
	Name      string    // sent in the hello; default "router"
	Discovery Discovery // where the instances come from (required)

	// HighWatermark and LowWatermark bound an instance's write buffer: the
	// bytes of frames queued for it and not yet written to its socket. Above
	// the high mark the instance is not writable (skipped) until the buffer
	// drains below the low mark.
	HighWatermark int
	LowWatermark  int

	// SendBuffer sets SO_SNDBUF on each instance connection (bytes; 0: the
	// OS default, which autotunes up to megabytes on loopback). A small one
	// makes back-pressure reach the write buffer soon on a slow link.
	SendBuffer int

	Retry          time.Duration // delay before redialing a lost (or unreachable) instance
	ConnectTimeout time.Duration // bound on dial + hello + welcome
	Liveness       time.Duration // silence after which an instance is lost; default 2 × its announced ping
	RequestTimeout time.Duration // a request not answered by then fails with 504

	Events Events
}

// Events are the router's reports. They are called synchronously, under the
// router's lock, in the order in which the router decided things: a callee
// must not call back into the router, and must return quickly. The harness
// records them as the router's own view (client-reported evidence).
type Events struct {
	OnRoute    func(Route)          // a part was handed to an instance
	OnResponse func(Response)       // a request was answered
	OnInstance func(InstanceChange) // an instance's eligibility changed
	OnEdge     func(EdgeChange)     // an edge connection was closed by the router
}

// Route is one routing decision: part Part of Parts of message ID went to Instance.
type Route struct {
	ID       string
	Edge     string
	Part     int
	Parts    int
	Instance string
}

// Response is the answer to one ingress request.
type Response struct {
	ID       string
	Edge     string
	Status   int
	Instance string // the instance that took it ("" for 500)
	Reason   string // why it failed ("" for 200)
}

// InstanceChange is one change of an instance in the router's view. Queued is
// the instance's write buffer in bytes when it changed.
type InstanceChange struct {
	Instance string
	State    string
	Queued   int
}

// EdgeChange is the router closing an edge connection.
type EdgeChange struct {
	Edge   string
	State  string
	Reason string
}

func (o Options) withDefaults() (Options, error) {
	if o.Discovery == nil {
		return o, errors.New("router: Options.Discovery is required")
	}
	if o.Name == "" {
		o.Name = "router"
	}
	if o.HighWatermark <= 0 {
		o.HighWatermark = DefaultHighWatermark
	}
	if o.LowWatermark <= 0 {
		o.LowWatermark = DefaultLowWatermark
		if o.LowWatermark > o.HighWatermark {
			o.LowWatermark = o.HighWatermark / 2
		}
	}
	if o.LowWatermark > o.HighWatermark {
		return o, errors.New("router: the low watermark is above the high watermark")
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	return o, nil
}

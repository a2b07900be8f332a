package driver

import "github.com/faultline/faultline/harness/scenario"

// Routing (ThingWorx's Connection Server, T1–T6) over the driver protocol.
// The engine under test is a router: connect starts it (servers: the
// discovery's initial instance URLs, in circular-list order; options.router:
// its settings) and the harness plays its edges and its service discovery:
//
//	{"id":1,"op":"connect","servers":["ws://…/","ws://…/"],"options":{…,"router":{"high_watermark":16384,…}}}
//	{"id":2,"op":"edge","edge":"e1"}                                  open an edge connection (ok even with no instance)
//	{"id":3,"op":"send","edge":"e1","payload":"…"}                    a single message; its id is the op's id
//	{"id":4,"op":"send","edge":"e1","payload":"…","chunks":3,"part":1} part 1 of a multi-part message (id 4)
//	{"id":5,"op":"send","edge":"e1","payload":"…","chunks":3,"part":2,"message":4}
//	{"id":6,"op":"discovery.add","servers":["ws://…/"]}               an instance joins
//	{"id":7,"op":"discovery.remove","servers":["ws://…/"]}            an instance leaves
//
// A send's reply says whether the edge took it (ok false: the edge is not
// open, no response follows); its answer comes later as a response event.
// Events, each in the order the router decided things:
//
//	{"type":"route","id":4,"part":1,"parts":3,"edge":"e1","server":"ws://…/"}  part handed to an instance
//	{"type":"response","id":4,"status":200,"edge":"e1","server":"ws://…/"}      answered (500: no instance
//	                                           eligible; 502: its instance lost, removed or not writable; 504: timeout)
//	{"type":"instance","server":"ws://…/","state":"unwritable","bytes":17408}  added | removed | connected |
//	                                           disconnected | writable | unwritable (bytes: the write buffer)
//	{"type":"edge","edge":"e1","state":"closed","reason":"no_instances"}       the router closed an edge (T4)
//
// A driver declares the "routing" feature when it can do all of this.
const (
	OpEdge            = "edge"
	OpDiscoveryAdd    = "discovery.add"
	OpDiscoveryRemove = "discovery.remove"

	EvRoute    = "route"
	EvInstance = "instance"
	EvEdge     = "edge"
)

// RouterOptions is the connect op's options.router: the scenario's router
// block with its defaults filled in, durations in whole milliseconds.
type RouterOptions struct {
	HighWatermark    int   `json:"high_watermark"`
	LowWatermark     int   `json:"low_watermark"`
	SendBuffer       int   `json:"send_buffer,omitempty"`
	RetryMS          int64 `json:"retry_ms"`
	RequestTimeoutMS int64 `json:"request_timeout_ms"`
}

// routerOptionsFor renders a client's router block (nil when it is none).
func routerOptionsFor(c scenario.Client) *RouterOptions {
	if c.Router == nil {
		return nil
	}
	r := *c.Router
	return &RouterOptions{
		HighWatermark:    r.High(),
		LowWatermark:     r.Low(),
		SendBuffer:       int(r.SendBuffer),
		RetryMS:          ms(r.RetryDelay()),
		RequestTimeoutMS: ms(r.Timeout()),
	}
}

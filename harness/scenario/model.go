// Package scenario is the model of a faultline scenario file and its strict
// loader: every problem in a file is reported as file:line:col, and a file
// with any problem yields no scenario (nothing runs from a bad file).
package scenario

import (
	"time"
)

// Pos is a position in a scenario file.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

// Scenario is one YAML file, validated.
type Scenario struct {
	File     string        `json:"file"`
	Name     string        `json:"name"`
	Covers   []string      `json:"covers"`
	Labels   []string      `json:"labels,omitempty"`
	Servers  []Server      `json:"servers"`
	Client   Client        `json:"client"`
	Clients  int           `json:"clients"`            // concurrent clients, default 1
	Duration time.Duration `json:"duration,omitempty"` // when the run ends; default: the last step's end plus Settle
	Steps    []Step        `json:"steps"`              // sorted by At (stable: file order for equal At)
	Expect   []Expect      `json:"expect"`
	// Source is the file's text as loaded (reports keep it, so that a run
	// can be judged again from its report alone: faultline check).
	Source string `json:"-"`
}

// Settle is how long a run goes on after its last step when no duration is given.
const Settle = time.Second

// End is when the timeline is over.
func (s *Scenario) End() time.Duration {
	if s.Duration > 0 {
		return s.Duration
	}
	var end time.Duration
	for _, st := range s.Steps {
		e := st.At + st.For
		if e > end {
			end = e
		}
	}
	return end + Settle
}

// Server returns a server by name.
func (s *Scenario) Server(name string) (Server, bool) {
	for _, sv := range s.Servers {
		if sv.Name == name {
			return sv, true
		}
	}
	return Server{}, false
}

// Server is a fake server; it sits behind a link of the same name.
type Server struct {
	Name      string        `json:"name"`
	Kind      string        `json:"kind"`                // "session"
	Retention time.Duration `json:"retention,omitempty"` // server maximum for keeping a disconnected session (default 60s)
	Ping      time.Duration `json:"ping,omitempty"`      // system ping period announced to clients (default 100ms)
	Buffer    int           `json:"buffer,omitempty"`    // per-session recovery buffer, messages (default 1024)
	Pos       Pos           `json:"-"`
}

// Client holds the options passed to the driver's connect.
type Client struct {
	Servers        []string      `json:"servers"`
	Principal      string        `json:"principal,omitempty"`
	Credentials    string        `json:"credentials,omitempty"`
	Reconnect      Reconnect     `json:"reconnect"`
	Failover       Failover      `json:"failover"`
	Liveness       time.Duration `json:"liveness,omitempty"`        // idle bound; default 2 x the server's ping
	ConnectTimeout time.Duration `json:"connect_timeout,omitempty"` // per attempt; default 2s
	Router         *Router       `json:"router,omitempty"`          // the client is a router (routing.go)
	Migration      Migration     `json:"migration"`                 // migration support (migration.go)
	// KeepSession asks the server to keep the session past its connection
	// (MQTT: clean session off), so a reconnect resumes it.
	KeepSession bool `json:"keep_session,omitempty"`
	// Delivery is the guarantee asked of the library for its sends and
	// subscriptions: at_most_once or at_least_once (MQTT: QoS 0 or 1); ""
	// leaves the library's default.
	Delivery string `json:"delivery,omitempty"`
	// Library holds, by protocol, options for a library's driver that the
	// client block has no key for (grpc: idle_connect, lb_policy): what an
	// application of that library chooses. Each driver's README lists the
	// keys it reads; a driver of another protocol never sees them.
	Library map[string]map[string]any `json:"library,omitempty"`
}

// Deliveries are the values client.delivery takes.
var Deliveries = []string{"at_most_once", "at_least_once"}

// Reconnect configures reconnection. Enabled defaults to true.
type Reconnect struct {
	Enabled   bool          `json:"enabled"`
	Timeout   time.Duration `json:"timeout,omitempty"`   // one overall timer from the first loss; default 60s
	Retention time.Duration `json:"retention,omitempty"` // requested of the server; default: the timeout
	Buffer    int           `json:"buffer,omitempty"`    // client recovery buffer (sends kept until acked); default 1024
	Strategy  Strategy      `json:"strategy"`
}

// Strategy is the built-in back-off. Delay n (0-based) is
// min(Initial * Multiplier^n, Max), with jitter; after Attempts attempts the
// strategy aborts (0: never).
type Strategy struct {
	Backoff    string        `json:"backoff"` // exponential | fixed
	Initial    time.Duration `json:"initial"`
	Multiplier float64       `json:"multiplier"`
	Max        time.Duration `json:"max,omitempty"`
	Attempts   int           `json:"attempts,omitempty"`
	Jitter     float64       `json:"jitter,omitempty"` // 0..1: each delay scaled by a uniform factor in [1-j, 1]
}

// Delay is the strategy's n-th delay (0-based) without jitter.
func (s Strategy) Delay(n int) time.Duration {
	d := float64(s.Initial)
	if s.Backoff != "fixed" {
		m := s.Multiplier
		if m == 0 {
			m = 2
		}
		for i := 0; i < n; i++ {
			d *= m
			if s.Max > 0 && d > float64(s.Max) {
				break
			}
		}
	}
	if s.Max > 0 && d > float64(s.Max) {
		d = float64(s.Max)
	}
	return time.Duration(d)
}

// Failover configures moving across the server list (F1–F4, C1–C3).
type Failover struct {
	Auto          bool `json:"auto"`
	LoadBalancing bool `json:"load_balancing"`
	Cascading     bool `json:"cascading"`
}

// Step is one timeline entry. Exactly one of Client, Server action, or Link
// fault is set.
type Step struct {
	At  time.Duration `json:"at"`
	Pos Pos           `json:"-"`

	// client op, applied to every client (or to Only when set)
	Client *ClientStep `json:"client,omitempty"`

	// server action
	Server  string   `json:"server,omitempty"`
	Publish *Publish `json:"publish,omitempty"`
	Close   bool     `json:"close,omitempty"`   // server closes every session deliberately
	Kill    bool     `json:"kill,omitempty"`    // process fault: the server goes down, losing what it held
	Restart bool     `json:"restart,omitempty"` // a killed server starts again, fresh, on the same address
	// Action is one of the server kind's own actions (fakeserver.Kind), with
	// its decoded attributes struct (nil for a flag action).
	Action     string `json:"action,omitempty"`
	ActionArgs any    `json:"action_args,omitempty"`

	// service discovery (routing.go)
	Discovery *DiscoveryStep `json:"discovery,omitempty"`

	// migration (migration.go): the server asks its sessions to move, or cancels
	Migrate *Migrate `json:"migrate,omitempty"`

	// link fault
	Link      string        `json:"link,omitempty"`
	Fault     string        `json:"fault,omitempty"`     // a registered verb, or "heal"
	For       time.Duration `json:"for,omitempty"`       // 0: until a heal step (or the end)
	FaultArgs any           `json:"args,omitempty"`      // the verb's attribute struct, decoded
	Direction string        `json:"direction,omitempty"` // both | upstream | downstream ("both" when unset; empty for heal)
}

// Link fault directions (Step.Direction).
const (
	DirBoth       = "both"
	DirUpstream   = "upstream"   // client → server
	DirDownstream = "downstream" // server → client
)

// ClientStep is a client op.
type ClientStep struct {
	Op      string        `json:"op"`                // connect | subscribe | send | close
	Topic   string        `json:"topic,omitempty"`   // subscribe
	Count   int           `json:"count,omitempty"`   // send: how many (default 1)
	Every   time.Duration `json:"every,omitempty"`   // send: spacing
	Payload string        `json:"payload,omitempty"` // send
	Only    []int         `json:"only,omitempty"`    // client indices; empty: all
	// Routing (routing.go): edge opens Edge; send goes in on Edge, as
	// messages of Chunks parts ChunkEvery apart, each of Size bytes of payload.
	Edge       string        `json:"edge,omitempty"`
	Chunks     int           `json:"chunks,omitempty"`
	ChunkEvery time.Duration `json:"chunk_every,omitempty"`
	Size       int           `json:"size,omitempty"`
	// Streaming requests (migration.go): request asks for Rows rows (Every is
	// the servers' row pacing); cancel sends an attention for the client's
	// latest request.
	Rows int `json:"rows,omitempty"`
}

// Publish is a server action: publish Count messages on Topic, one every Every.
type Publish struct {
	Topic string        `json:"topic"`
	Count int           `json:"count"`
	Every time.Duration `json:"every,omitempty"`
}

// Expect is one check: a registered checker, its requirement, and its
// configuration (the checker's own struct, decoded strictly).
type Expect struct {
	Check       string `json:"check"`
	Requirement string `json:"requirement"`
	Params      any    `json:"params,omitempty"`
	Pos         Pos    `json:"-"`
}

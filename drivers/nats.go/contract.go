package main

// The connection-management contract (shared spec, "Driver protocol
// additions"): each term's value with a citation to nats.go's own source at
// v1.56.0 (file nats.go, the function named). Read from
// $(go env GOMODCACHE)/github.com/nats-io/nats.go@v1.56.0/nats.go.

import "github.com/faultline/faultline/drivers/kit"

// Params are the numbers nats.go runs with (read back from the
// nats.Options the connect built).
type Params struct {
	ReconnectWaitMS      *float64 `json:"reconnect_wait_ms,omitempty"`
	JitterMS             *float64 `json:"jitter_ms,omitempty"`
	MaxReconnects        int      `json:"max_reconnects"`
	PingIntervalMS       float64  `json:"ping_interval_ms"`
	MaxPingsOut          int      `json:"max_pings_out"`
	TimeoutMS            float64  `json:"timeout_ms"`
	Randomize            bool     `json:"randomize"`
	Reconnect            bool     `json:"reconnect"`
	BufferBytes          int      `json:"buffer_bytes"`
	RetryOnFailedConnect bool     `json:"retry_on_failed_connect"`
	Name                 string   `json:"name,omitempty"`
	// The driver's CustomReconnectDelay (exponential strategy only).
	InitialMS  *float64 `json:"initial_ms,omitempty"`
	Multiplier *float64 `json:"multiplier,omitempty"`
	MaxMS      *float64 `json:"max_ms,omitempty"`
	Jitter     *float64 `json:"jitter,omitempty"`
}

// Contract is nats.go's built-in contract (hello) or its effective one
// (connect reply, with Params, Unsupported and DriverAdds).
type Contract = kit.Contract[Params]

// Citations, shared by the built-in and the effective contract.
const (
	citeFirstAfterDelay = "nats.go doReconnect(): doSleep = i+1 >= len(nc.srvPool) && !forceReconnect: with one server in the pool (the default pool is DefaultURL alone) it sleeps before every attempt, the first included"
	citeFirstImmediate  = "nats.go doReconnect(): doSleep = i+1 >= len(nc.srvPool): with more than one server the next server of the pool is tried at once; the sleep comes only before the attempt that wraps round the pool"
	citePerPass         = "nats.go doReconnect(): it sleeps only when i+1 >= len(nc.srvPool), once per full pass over the pool (i is reset to 0 after each sleep); with one server a pass is one attempt"
	citeConstant        = "nats.go doReconnect(): st = rw (Opts.ReconnectWait, DefaultReconnectWait 2s in GetDefaultOptions()) for every sleep"
	citeJitterAdded     = "nats.go doReconnect(): st += time.Duration(rand.Int63n(int64(jitter))) with jitter = Opts.ReconnectJitter (ReconnectJitterTLS with TLS): uniform in [wait, wait+jitter)"
	citeReset           = "nats.go doReconnect(): wlf and the sleep are local to one doReconnect run, and cur.Reconnects = 0 after a successful processConnectInit(): every outage starts afresh"
	citePerServer       = "nats.go selectNextServer(): a server is dropped from the pool once s.Reconnects >= Opts.MaxReconnect (counted per server since its last success, cur.Reconnects++ in doReconnect()); the pool empty -> ErrNoServers, close(CLOSED)"
	citeNoLimit         = "nats.go selectNextServer(): maxReconnect < 0 keeps every server in the pool for ever (MaxReconnects(-1))"
	citeNext            = "nats.go selectNextServer(): moves the current (lost) server to the end of the pool and returns the head, the next server"
	citeShuffle         = "nats.go setupServerPool(): shufflePool(0) once at Connect unless Opts.NoRandomize; shufflePool() is a Fisher-Yates over the pool; discovered URLs are added with shufflePool(1) (updateServerPool())"
	citeNoShuffle       = "nats.go setupServerPool(): with Opts.NoRandomize (DontRandomize()) the pool keeps the order of the URL list"
	citeCascade         = "nats.go connect(): the first connect walks nc.srvPool in order, one attempt per server, no delay between servers; the first success wins, else ErrNoServers (or the last error)"
	citePing            = "nats.go processPingTimer(): every PingInterval pout++, PING sent; pout > MaxPingsOut -> processOpErr(ErrStaleConnection); processPong() resets pout; the timer is armed in processConnectInit()"
	citeNoOverall       = "nats.go doReconnect(): no overall deadline: the loop ends only when the pool is empty (MaxReconnect per server), on Close(), or on an auth abort (nc.ar)"
	citeLameDuckNotify  = "nats.go processInfo(): an INFO with ldm:true only pushes Opts.LameDuckModeHandler; nothing else changes until the server closes the connection"
	citeAtMostOnce      = "nats.go flushPendingBuffer(): the reconnect buffer is written once and reset even when the write fails (\"we don't want to take the risk of sending duplicates or partials\"); bindToNewConn() sets bw.bufs = nil, dropping bytes not yet flushed at the loss; nothing is kept for acknowledgement or resent, so a publish written into a link that died silently before the ping timer noticed is lost (nats.go issue #86)"
	citeBufferReconnect = "nats.go publish(): while RECONNECTING (processOpErr() -> bw.switchToPending()) appendBufs() writes into the pending buffer, up to Opts.ReconnectBufSize bytes (atLimitIfUsingPending() -> ErrReconnectBufExceeded); doReconnect() sends it after resendSubscriptions() (flushReconnectPendingItems()) once the new connection's handshake succeeded"
	citeBufferNone      = "nats.go processOpErr(): with NoReconnect() (Opts.AllowReconnect false) a loss closes the connection (DISCONNECTED, then CLOSED); publish() returns ErrConnectionClosed: nothing is buffered"
	citeDiscoveryFollow = "nats.go updateServerPool(), called by processExpectedInfo() for the connection's first INFO and by processInfo() for every asynchronous one: connect_urls are added to the pool as implicit servers (addURLToPool(), shufflePool(1) unless NoRandomize, DiscoveredServersCB pushed for a new URL), and implicit servers no longer listed are dropped; doReconnect() -> selectNextServer() walks that pool, so after a loss an advertised server is tried like a given one"
	citeDiscoveryIgnore = "nats.go updateServerPool(): returns at once when Opts.IgnoreDiscoveredServers (IgnoreDiscoveredServers()): connect_urls never reach the pool, the client reconnects only to the servers it was given"
	citeCloseError      = "nats.go connect(): the first connect's loop over nc.srvPool keeps only the last server's error in err (createConn()'s dial error, or processConnectInit()'s handshake error); a dial error containing \"connection refused\" is cancelled out (err = nil), and `if err == nil && nc.status != CONNECTED { err = ErrNoServers }`. So when every server fails nats.Connect returns the last server's error (a dial or handshake timeout, a reset, a server's -ERR: a net.OpError names at most that last server's address), or ErrNoServers (\"nats: no servers available for connection\") when the last server refused the dial; no error names each server tried. After a loss, doReconnect() closes with nc.err = ErrNoServers (unless an error was set already) once selectNextServer() empties the pool (MaxReconnects)"
	citeLameDuckForce   = "driver: LameDuckModeHandler calls nc.ForceReconnect(); nats.go ForceReconnect(): closes the socket and runs doReconnect(nil, true), the first attempt without delay, to the next server (selectNextServer())"
)

// builtin is nats.go's contract with its defaults (GetDefaultOptions()).
func builtin() *Contract {
	return &Contract{
		FirstAttempt:   kit.Term{Value: "after_delay", Cite: citeFirstAfterDelay + " (immediate to the next server when the pool has more)"},
		DelayApplies:   kit.Term{Value: "per_pass", Cite: citePerPass},
		Delay:          kit.Term{Value: "constant", Cite: citeConstant},
		Jitter:         kit.Term{Value: "added", Cite: citeJitterAdded + "; DefaultReconnectJitter 100ms, DefaultReconnectJitterTLS 1s"},
		Reset:          kit.Term{Value: "on_success", Cite: citeReset},
		AttemptLimit:   kit.Term{Value: "per_server", Cite: citePerServer + "; DefaultMaxReconnect 60"},
		Failover:       kit.Term{Value: "next", Cite: citeNext},
		Shuffle:        kit.Term{Value: "at_connect", Cite: citeShuffle},
		FirstConnect:   kit.Term{Value: "cascade", Cite: citeCascade},
		Liveness:       kit.Term{Value: "ping", Cite: citePing + "; DefaultPingInterval 2m, DefaultMaxPingOut 2"},
		OverallTimeout: kit.Term{Value: "none", Cite: citeNoOverall},
		LameDuck:       kit.Term{Value: "notify", Cite: citeLameDuckNotify},
		Delivery:       kit.Term{Value: "at_most_once", Cite: citeAtMostOnce},
		Buffer:         kit.Term{Value: "while_reconnecting", Cite: citeBufferReconnect + "; DefaultReconnectBufSize 8MB"},
		Discovery:      kit.Term{Value: "follow", Cite: citeDiscoveryFollow},
		CloseError:     kit.Term{Value: "last_error", Cite: citeCloseError},
	}
}

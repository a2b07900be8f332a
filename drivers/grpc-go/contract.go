package main

// The connection-management contract (docs/driver-protocol.md, "The SDK
// contract"): each term's value with a citation to grpc-go's own source at
// v1.85.0, "file function()", read from
// $(go env GOMODCACHE)/google.golang.org/grpc@v1.85.0.

import "github.com/faultline/faultline/drivers/kit"

// Params are the numbers grpc-go runs with for one connect (read back from
// the grpc.ConnectParams and keepalive.ClientParameters the connect built).
type Params struct {
	// The back-off (backoff.Config through grpc.WithConnectParams): sleep n
	// (from 0) before a subchannel's attempt n+1 is min(initial·multiplier^n,
	// max), jittered symmetrically by ±jitter from n = 1 on; sleep 0 is
	// exactly initial (FirstWaitExact).
	InitialMS      float64 `json:"initial_ms"`
	Multiplier     float64 `json:"multiplier"`
	MaxMS          float64 `json:"max_ms"`
	Jitter         float64 `json:"jitter"`
	FirstWaitExact bool    `json:"first_wait_exact"`
	// MinConnectTimeoutMS bounds one attempt (TCP dial up to the server's
	// SETTINGS); the attempt's deadline is max(it, the attempt's back-off).
	MinConnectTimeoutMS float64 `json:"min_connect_timeout_ms"`
	// OverlapMS: pick_first's happy eyeballs starts the next address this
	// long after the previous one if that has not finished.
	OverlapMS float64 `json:"overlap_ms"`
	// Keepalive (only when the scenario asks liveness): a PING after
	// KeepaliveTimeMS without a frame read, the connection closed when no
	// frame arrives KeepaliveTimeoutMS after it: DetectMS = their sum is the
	// longest a silent link goes unnoticed.
	KeepaliveTimeMS    *float64 `json:"keepalive_time_ms,omitempty"`
	KeepaliveTimeoutMS *float64 `json:"keepalive_timeout_ms,omitempty"`
	DetectMS           *float64 `json:"detect_ms,omitempty"`
	// The load-balancing policy and its shuffle, from the service config.
	LBPolicy           string `json:"lb_policy"`
	ShuffleAddressList bool   `json:"shuffle_address_list"`
	// IdleConnect: the driver calls cc.Connect() when the channel goes
	// IDLE (client.library.grpc.idle_connect, README).
	IdleConnect bool `json:"idle_connect"`
	// Client is the name the driver gives the server (faultline-client).
	Client string `json:"client"`
}

// Contract is grpc-go's built-in contract (hello) or its effective one
// (connect reply, with Params, Unsupported and DriverAdds): kit's sixteen
// terms and the two gRPC brought to docs/driver-protocol.md's table.
type Contract struct {
	kit.Contract[Params]
	// ConnectDeadline: how long one attempt may take (max_backoff, fixed).
	ConnectDeadline kit.Term `json:"connect_deadline"`
	// IdleReconnect: after a loss, with nothing asking, does the library
	// reconnect by itself (auto) or only when asked (on_demand)?
	IdleReconnect kit.Term `json:"idle_reconnect"`
}

// Terms are the contract's terms beyond kit's sixteen.
var extraTerms = []string{"connect_deadline", "idle_reconnect"}

// Citations, shared by the built-in and the effective contract.
const (
	citeFirstImmediate = "grpc-go balancer/pickfirst/pickfirst.go updateSubConnState(): a READY subchannel that fails makes pick_first reset its address list (addressList.reset()) and go IDLE with an idlePicker; ExitIdle() (cc.Connect() or the next RPC) runs startFirstPassLocked() -> requestConnectionLocked() -> subConn.Connect() at once; clientconn.go resetTransportAndUnlock(): the back-off Backoff(ac.backoffIdx) is slept only after a failed attempt, and backoffIdx was reset to 0 by the last success: the first attempt after a loss is immediate once something asks for it"
	citePerAttempt     = "grpc-go clientconn.go resetTransportAndUnlock(): each subchannel (addrConn, one per address) sleeps Backoff(backoffIdx) after each of its failed attempts, then backoffIdx++ and IDLE; balancer/pickfirst/pickfirst.go updateSubConnState(): within a pass a failed address moves on to the next one at once (requestConnectionLocked()), and once every address failed (endFirstPassIfPossibleLocked()) each subchannel reconnects on its own schedule (case connectivity.Idle: sd.subConn.Connect())"
	citeExponential    = "grpc-go internal/backoff/backoff.go Exponential.Backoff(retries): BaseDelay for retries 0, else BaseDelay·Multiplier^retries capped at MaxDelay; set by dialoptions.go WithConnectParams() (backoff/backoff.go DefaultConfig: BaseDelay 1s, Multiplier 1.6, Jitter 0.2, MaxDelay 120s)"
	citeSymmetric      = "grpc-go internal/backoff/backoff.go Exponential.Backoff(): backoff *= 1 + Jitter*(rand.Float64()*2-1), after the cap (uniform in [d(1-J), d(1+J)], up to MaxDelay·(1+J)); retries == 0 returns BaseDelay before any jitter: the first wait is exact"
	citeReset          = "grpc-go clientconn.go resetTransportAndUnlock(): ac.backoffIdx = 0 once tryAllAddrs() succeeded, i.e. createTransport() -> transport.NewHTTP2Client() returned after reading the server's SETTINGS (the spec's reset point, doc/connection-backoff.md)"
	citeNoLimit        = "grpc-go clientconn.go resetTransportAndUnlock(): no attempt counter; balancer/pickfirst/pickfirst.go updateSubConnState() reconnects an IDLE subchannel after the first pass for ever (sd.subConn.Connect()): only cc.Close() ends it"
	citeTop            = "grpc-go balancer/pickfirst/pickfirst.go updateSubConnState(): on the loss of the READY subchannel, shutdownRemainingLocked() and b.addressList.reset(): the next pass (ExitIdle() -> startFirstPassLocked() -> requestConnectionLocked()) starts again at the first address, the lost server included"
	citeNoShuffle      = "grpc-go balancer/pickfirst/pickfirst.go UpdateClientConnState(): without shuffleAddressList the endpoints keep the resolver's order (resolver/manual: the list order); interleaveAddresses() alternates address families only (no effect on an all-IPv4 list)"
	citeShuffle        = "grpc-go balancer/pickfirst/pickfirst.go UpdateClientConnState(): with shuffleAddressList the endpoints are shuffled (envconfig.PickFirstWeightedShuffling, default on: key u^(1/weight) sorted descending, uniform for equal weights; else internal.RandShuffle) once per resolver update: the manual resolver gives one (InitialState()), so once per connect, not per reconnect"
	citeCascade        = "grpc-go balancer/pickfirst/pickfirst.go requestConnectionLocked(): the first pass connects the addresses in order, a failed one moving on to the next at once, and scheduleNextConnectionLocked() starts the next address connectionDelayInterval (250ms, happy eyeballs) after the current one when it has not finished; endFirstPassIfPossibleLocked(): the channel goes TRANSIENT_FAILURE once every address failed"
	citePing           = "grpc-go internal/transport/http2_client.go keepalive(): with keepalive.ClientParameters (dialoptions.go WithKeepaliveParams(), Time at least internal.KeepaliveMinPingTime 10s) a PING is sent after Time without a frame read and the connection closed when nothing is read Timeout after it (\"keepalive ping failed to receive ACK within timeout\"); PermitWithoutStream pings an idle connection too"
	citeNoPing         = "grpc-go internal/transport/defaults.go: defaultClientKeepaliveTime = infinity: without WithKeepaliveParams() the client sends no keepalive PING and a silent link is found only by TCP"
	citeNoOverall      = "grpc-go clientconn.go: no reconnection deadline anywhere in resetTransportAndUnlock() or balancer/pickfirst/pickfirst.go: only an RPC's own deadline or cc.Close() ends the trying"
	citeLameDuckNone   = "grpc-go internal/transport/http2_client.go handleGoAway(): a GOAWAY drains the transport and calls onClose() at once; clientconn.go createTransport() onClose: \"Always go idle and wait for the LB policy to initiate a new connection attempt\": the new connection is made on the next RPC or cc.Connect(), to the top of the list (pickfirst.go updateSubConnState()); GOAWAY names no other server and grpc-go picks none"
	citeAtMostOnce     = "grpc-go stream.go csAttempt.shouldRetry(): an RPC is retried transparently only when its stream never reached the server application (no transport stream, or Unprocessed() after a GOAWAY/REFUSED_STREAM), and otherwise only under a service config retryPolicy (none is configured): a Send written to a connection that then dies is not resent"
	citeBufferNone     = "grpc-go picker_wrapper.go pick(): a fail-fast RPC (the default, no WaitForReady) waits only while the picker says ErrNoSubConnAvailable (IDLE, CONNECTING) and fails UNAVAILABLE on a TRANSIENT_FAILURE picker; grpc-go keeps no messages of its own for a later connection"
	citeCloseError     = "grpc-go balancer/pickfirst/pickfirst.go endFirstPassIfPossibleLocked(lastErr): when every address failed the TRANSIENT_FAILURE picker carries only the last failed subchannel's error (picker{err: lastErr}), which picker_wrapper.go pick() returns as the RPC's UNAVAILABLE status: no error names each server tried"
	citeMaxBackoff     = "grpc-go clientconn.go resetTransportAndUnlock(): dialDuration = minConnectTimeout (20s, or ConnectParams.MinConnectTimeout), raised to the attempt's back-off Backoff(backoffIdx) when that is longer; connectDeadline = now + dialDuration covers the TCP dial, the client preface and the server's SETTINGS (createTransport() -> NewHTTP2Client())"
	citeOnDemand       = "grpc-go balancer/pickfirst/pickfirst.go updateSubConnState(): after the loss of the READY subchannel the channel goes IDLE with an idlePicker and no attempt starts until ExitIdle(): an RPC's pick (idlePicker.Pick()) or cc.Connect() (clientconn.go Connect()); clientconn.go createTransport() onClose: \"Always go idle and wait for the LB policy to initiate a new connection attempt\""
	citeRRAuto         = "grpc-go balancer/endpointsharding/endpointsharding.go endpointState.UpdateState(): a round_robin child that goes IDLE is reconnected at once (go es.exitIdle()) unless DisableAutoReconnect, which round_robin does not set (balancer/roundrobin/roundrobin.go Build())"
	citeDiscoveryNone  = "grpc-go resolver/manual/manual.go Resolver: the channel's addresses are only those given (InitialState(), UpdateState()); HTTP/2 and gRPC carry no list of other servers for the client to follow"
	citeRRFirst        = "grpc-go balancer/endpointsharding/endpointsharding.go UpdateClientConnState(): round_robin makes a pick_first child per endpoint (balancer/roundrobin/roundrobin.go Build()) and every child connects at once (pickfirst.go UpdateClientConnState(): the first update starts its first pass); endpointState.UpdateState(): a child that goes IDLE is reconnected at once (go es.exitIdle())"
	citeRRFailover     = "grpc-go balancer/endpointsharding/endpointsharding.go updateStateLocked(): the channel is READY while any child is, and the picker rotates over the READY children only: after a loss the RPCs go to the next READY server at once while the lost one reconnects on its own"
	citeRRShuffle      = "grpc-go balancer/endpointsharding/endpointsharding.go rotateEndpoints(): the endpoints are rotated by a random amount at each resolver update (a rotation, not a uniform permutation), and the picker starts at a random READY child (next: randIntN())"
)

// builtin is grpc-go's contract with its defaults (pick_first, keepalive
// off, backoff.DefaultConfig).
func builtin() *Contract {
	return &Contract{
		Contract: kit.Contract[Params]{
			FirstAttempt:   kit.Term{Value: "immediate", Cite: citeFirstImmediate},
			DelayApplies:   kit.Term{Value: "per_attempt", Cite: citePerAttempt},
			Delay:          kit.Term{Value: "exponential", Cite: citeExponential},
			Jitter:         kit.Term{Value: "symmetric", Cite: citeSymmetric},
			Reset:          kit.Term{Value: "on_success", Cite: citeReset},
			AttemptLimit:   kit.Term{Value: "none", Cite: citeNoLimit},
			Failover:       kit.Term{Value: "top", Cite: citeTop},
			Shuffle:        kit.Term{Value: "none", Cite: citeNoShuffle},
			FirstConnect:   kit.Term{Value: "cascade", Cite: citeCascade},
			Liveness:       kit.Term{Value: "none", Cite: citeNoPing},
			OverallTimeout: kit.Term{Value: "none", Cite: citeNoOverall},
			LameDuck:       kit.Term{Value: "none", Cite: citeLameDuckNone},
			Delivery:       kit.Term{Value: "at_most_once", Cite: citeAtMostOnce},
			Buffer:         kit.Term{Value: "none", Cite: citeBufferNone},
			Discovery:      kit.Term{Value: "ignore", Cite: citeDiscoveryNone},
			CloseError:     kit.Term{Value: "last_error", Cite: citeCloseError},
		},
		ConnectDeadline: kit.Term{Value: "max_backoff", Cite: citeMaxBackoff},
		IdleReconnect:   kit.Term{Value: "on_demand", Cite: citeOnDemand},
	}
}

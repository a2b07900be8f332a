package main

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/keepalive"
)

// grpcOptions are this driver's own connect options (client.library.grpc, README):
// what a gRPC application chooses that faultline's client block has no key
// for.
type grpcOptions struct {
	// IdleConnect: call cc.Connect() whenever the channel goes IDLE (after
	// a loss pick_first waits for something to ask). Default: on, unless
	// reconnect.enabled is false.
	IdleConnect *bool `json:"idle_connect"`
	// LBPolicy: "pick_first" (default) or "round_robin".
	LBPolicy string `json:"lb_policy"`
}

// The load-balancing policies a connect may ask for.
const (
	pickFirst  = "pick_first"
	roundRobin = "round_robin"
)

// Defaults grpc-go applies when nothing is set: clientconn.go
// minConnectTimeout, and pickfirst.go connectionDelayInterval (unexported:
// restated here for the params).
const (
	defaultMinConnectTimeout = 20 * time.Second
	happyEyeballs            = 250 * time.Millisecond
	// keepaliveMinTime is internal.KeepaliveMinPingTime: WithKeepaliveParams()
	// raises a shorter Time to it.
	keepaliveMinTime = 10 * time.Second
)

// plan is what a connect asks of grpc-go: the dial options (the dialer, the
// stats handler and the resolver are the session's, added in session.go)
// and the effective contract.
type plan struct {
	opts        []grpc.DialOption
	contract    *Contract
	cp          grpc.ConnectParams
	ka          *keepalive.ClientParameters
	lb          string
	shuffle     bool
	idleConnect bool
	serviceConf string
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fptr(f float64) *float64 { return &f }

func durMS(v float64) time.Duration {
	if v >= float64(math.MaxInt64)/float64(time.Millisecond) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(v * float64(time.Millisecond))
}

// connectParams maps the scenario's strategy and connect timeout onto
// grpc.ConnectParams. WithConnectParams replaces both the back-off and the
// connect timeout, and a zero field means zero (a zero MinConnectTimeout
// makes each attempt's deadline its back-off; a zero backoff.Config a tight
// loop: grpc-go #6094), so it starts from backoff.DefaultConfig and the
// 20 s default timeout and sets only what the scenario gives.
func connectParams(st *kit.StrategyOptions, connectTimeoutMS int64) (grpc.ConnectParams, string) {
	cp := grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: defaultMinConnectTimeout}
	if connectTimeoutMS > 0 {
		cp.MinConnectTimeout = time.Duration(connectTimeoutMS) * time.Millisecond
	}
	if st == nil || st.InitialMS <= 0 {
		return cp, "" // grpc-go's defaults
	}
	// The scenario's delay n lies in [(1−j)·d(n), d(n)]; grpc-go's is
	// Backoff(n)·U[1−J, 1+J]. Centring grpc-go's band in the scenario's
	// gives the same band: every delay scaled by c = 1 − j/2 (BaseDelay
	// and MaxDelay; the multiplier is unchanged) and J = (j/2)/c, so that
	// c·(1−J) = 1−j and c·(1+J) = 1. grpc-go's first wait, exact, is c·d(0),
	// inside the band. Without jitter c is 1: the scenario's numbers.
	j := min(max(st.Jitter, 0), 1)
	c := 1 - j/2
	b := &cp.Backoff
	b.BaseDelay = durMS(st.InitialMS * c)
	b.Jitter = (j / 2) / c
	if st.Backoff == "fixed" {
		// Multiplier 1 and the cap at the delay: Backoff(n) is BaseDelay
		// (times the jitter from n = 1 on) for every n.
		b.Multiplier, b.MaxDelay = 1, b.BaseDelay
		return cp, "constant"
	}
	b.Multiplier = st.Multiplier
	if b.Multiplier <= 0 {
		b.Multiplier = 2 // the harness's default multiplier
	}
	if st.MaxMS > 0 {
		b.MaxDelay = durMS(st.MaxMS * c)
	}
	// No max given: grpc-go needs one (Backoff() multiplies only while
	// below it), so DefaultConfig's 120 s stays, or the initial delay if
	// that is longer.
	b.MaxDelay = max(b.MaxDelay, b.BaseDelay)
	return cp, "exponential"
}

// keepaliveFor maps liveness L (the longest a silent link may go
// unnoticed) onto keepalive: detection is Time + Timeout
// (http2_client.go keepalive()), Time at least 10 s. Time = max(L/2, 10 s),
// Timeout = max(L − Time, L/2): L itself from L = 20 s on, the least
// grpc-go can do (10 s + L/2) below.
func keepaliveFor(livenessMS int64) keepalive.ClientParameters {
	l := time.Duration(livenessMS) * time.Millisecond
	t := max(l/2, keepaliveMinTime)
	return keepalive.ClientParameters{Time: t, Timeout: max(l-t, l/2), PermitWithoutStream: true}
}

// serviceConfig is the default service config selecting the LB policy.
func serviceConfig(lb string, shuffle bool) string {
	if lb == roundRobin {
		return `{"loadBalancingConfig":[{"round_robin":{}}]}`
	}
	return fmt.Sprintf(`{"loadBalancingConfig":[{"pick_first":{"shuffleAddressList":%t}}]}`, shuffle)
}

// planFor maps the scenario's options onto grpc-go's public API and says
// what that amounts to.
func planFor(servers []string, raw json.RawMessage, name string) (*plan, error) {
	co, err := kit.ParseConnectOptions(raw)
	if err != nil {
		return nil, err
	}
	var g *grpcOptions // client.library.grpc
	if err := co.LibraryOptions("grpc", &g); err != nil {
		return nil, err
	}
	c := builtin()
	p := &plan{contract: c, lb: pickFirst, idleConnect: true}
	var unsup []kit.Unsupported
	adds := []kit.DriverAdd{
		{What: "a Hello RPC (faultline.grpc.Feed/Hello, metadata faultline-client) on every READY, whose answer names the session of CONNECTED_ACTIVE", Why: "gRPC has no client identity on a connection: the server attributes the connection to the client by it (the gRPC pack's wire agreement)"},
		{What: "Subscribe streams re-opened once the channel is READY again (after the Hello)", Why: "grpc-go never re-opens a stream: a server stream ends with its connection (UNAVAILABLE) and the application must call again"},
		{What: "the first connect's failure is final: at the channel's first TRANSIENT_FAILURE (pick_first's first pass over every address failed, pickfirst.go endFirstPassIfPossibleLocked()) the driver closes the channel (cc.Close()) and reports CLOSED_FAILED with the error of a fail-fast Hello; under pick_first the dialer refuses a second dial of an address during the first connect (an error event says so)", Why: "faultline's first connect cascades once, then is CONNECTED_ACTIVE or CLOSED_FAILED; grpc-go would go on retrying for ever, and pick_first starts its retries (subchannels whose back-off is over) in the very call that ends its first pass, before the driver can close the channel"},
		{What: "a context dialer (grpc.WithContextDialer) and a client stats handler (grpc.WithStatsHandler)", Why: "evidence only: dial events with the harness's URLs, and each transport's ConnBegin/ConnEnd, since cc.WaitForStateChange() coalesces fast state changes"},
	}
	multi := len(servers) > 1
	if co.Principal != "" || co.Credentials != "" {
		unsup = append(unsup, kit.Unsupported{Option: "principal", Reason: "the gRPC pack has no authentication: the driver dials with insecure credentials and sends no credentials"})
	}

	// The load-balancing policy (client.library.grpc.lb_policy) and the shuffle.
	if g != nil && g.LBPolicy != "" {
		switch g.LBPolicy {
		case pickFirst, roundRobin:
			p.lb = g.LBPolicy
		default:
			return nil, fmt.Errorf("client.library.grpc.lb_policy: %q is neither %s nor %s", g.LBPolicy, pickFirst, roundRobin)
		}
	}
	fo := co.Failover
	if p.lb == roundRobin {
		c.IdleReconnect = kit.Term{Value: "auto", Cite: citeRRAuto}
		c.FirstAttempt = kit.Term{Value: "immediate", Cite: citeRRFirst}
		c.Failover = kit.Term{Value: "next", Cite: citeRRFailover}
		c.Shuffle = kit.Term{Value: "at_connect", Cite: citeRRShuffle}
		c.FirstConnect = kit.Term{Value: "cascade", Cite: citeRRFirst + " (every server at once, not in turn)"}
		if fo != nil && fo.LoadBalancing {
			unsup = append(unsup, kit.Unsupported{Option: "failover.load_balancing", Reason: "round_robin has no shuffleAddressList: endpointsharding.go rotateEndpoints() rotates the list by a random amount, which is not a uniform shuffle"})
		}
	} else if fo != nil && fo.LoadBalancing {
		p.shuffle = true
		c.Shuffle = kit.Term{Value: "at_connect", Cite: citeShuffle}
	}
	if fo != nil && multi && !fo.Cascading {
		unsup = append(unsup, kit.Unsupported{Option: "failover.cascading", Reason: "false cannot be expressed: grpc-go's pick_first always walks every address in its first pass (pickfirst.go requestConnectionLocked()), and round_robin connects them all"})
	}

	// Reconnection. grpc-go cannot be told not to reconnect; what the
	// driver can do is not ask it to (no cc.Connect() on IDLE).
	r := co.Reconnect
	if co.ReconnectOff() {
		p.idleConnect = false
		unsup = append(unsup, kit.Unsupported{Option: "reconnect.enabled", Reason: "false cannot be expressed: grpc-go has no switch to stop reconnecting; after a loss pick_first waits IDLE (pickfirst.go updateSubConnState()) and reconnects on the next RPC (idlePicker.Pick() -> ExitIdle()); the driver leaves it IDLE (no cc.Connect()), but a send still reconnects it"})
	}
	if fo != nil && multi && !fo.Auto {
		unsup = append(unsup, kit.Unsupported{Option: "failover.auto", Reason: "false cannot be expressed: after a loss grpc-go's pass walks the whole address list from the top (pickfirst.go updateSubConnState(): addressList.reset(), requestConnectionLocked() moving to the next address on a failure)"})
	}
	st := co.Strategy()
	if r != nil {
		if st != nil && st.Attempts > 0 {
			unsup = append(unsup, kit.Unsupported{Option: "reconnect.strategy.attempts", Reason: fmt.Sprintf("grpc-go has no attempt limit (clientconn.go resetTransportAndUnlock() counts none; pick_first reconnects for ever): the %d attempts cannot be expressed, and the driver does not emulate them", st.Attempts)})
		}
		if r.TimeoutMS > 0 {
			unsup = append(unsup, kit.Unsupported{Option: "reconnect.timeout_ms", Reason: "grpc-go has no overall reconnection deadline (only an RPC's own deadline); the driver does not emulate one"})
		}
		if r.RetentionMS > 0 {
			unsup = append(unsup, kit.Unsupported{Option: "reconnect.retention_ms", Reason: "gRPC has no session past its connection for a server to keep"})
		}
		if r.Buffer > 0 {
			unsup = append(unsup, kit.Unsupported{Option: "reconnect.buffer", Reason: "grpc-go keeps no messages for a later connection: a fail-fast RPC fails UNAVAILABLE while the channel is in TRANSIENT_FAILURE (picker_wrapper.go pick())"})
		}
	}
	cp, shape := connectParams(st, co.ConnectTimeoutMS)
	c.ConnectDeadline.Cite += fmt.Sprintf("; here max(%gms, the attempt's back-off)", ms(cp.MinConnectTimeout))
	if shape == "constant" {
		c.Delay = kit.Term{Value: "constant", Cite: citeExponential + "; with Multiplier 1 and MaxDelay = BaseDelay every sleep is BaseDelay (jittered from the second on)"}
	}
	if st != nil && st.InitialMS > 0 {
		if st.Jitter <= 0 {
			c.Jitter = kit.Term{Value: "none", Cite: citeSymmetric + "; Jitter 0 here"}
		} else {
			c.Jitter = kit.Term{Value: "symmetric", Cite: citeSymmetric + fmt.Sprintf("; the scenario's band [(1−j)·d, d] (j %g) mapped onto it centred: BaseDelay and MaxDelay scaled by 1 − j/2, Jitter (j/2)/(1 − j/2) = %g (params)", st.Jitter, cp.Backoff.Jitter)}
		}
	}
	p.cp = cp

	// Liveness: keepalive, Time at least 10 s.
	if co.LivenessMS > 0 {
		ka := keepaliveFor(co.LivenessMS)
		p.ka = &ka
		c.Liveness = kit.Term{Value: "ping", Cite: citePing}
		if detect := ka.Time + ka.Timeout; detect > time.Duration(co.LivenessMS)*time.Millisecond {
			unsup = append(unsup, kit.Unsupported{Option: "liveness_ms", Reason: fmt.Sprintf("%dms cannot be expressed: grpc-go's keepalive Time is at least 10s (dialoptions.go WithKeepaliveParams() raises a shorter one to internal.KeepaliveMinPingTime), so a silent link is found within Time %gms + Timeout %gms = %gms (detect_ms)", co.LivenessMS, ms(ka.Time), ms(ka.Timeout), ms(detect))})
		}
	}

	if co.KeepSession {
		unsup = append(unsup, kit.Unsupported{Option: "keep_session", Reason: "gRPC has no session past its connection"})
	}
	if co.Delivery == "at_least_once" || co.Delivery == "exactly_once" {
		unsup = append(unsup, kit.Unsupported{Option: "delivery", Reason: co.Delivery + " cannot be asked: " + citeAtMostOnce})
	}
	if co.MigrationOn() {
		unsup = append(unsup, kit.Unsupported{Option: "migration.enabled", Reason: "a gRPC server's GOAWAY names no target and grpc-go moves to none: it reconnects to the top of its list on the next RPC (http2_client.go handleGoAway())"})
	}
	if co.IsRouter() {
		unsup = append(unsup, kit.Unsupported{Option: "router", Reason: "grpc-go is a client channel, not a router of edge connections (round_robin is client.library.grpc.lb_policy, README)"})
	}

	// The driver's own option: who asks the channel to connect after a loss.
	if g != nil && g.IdleConnect != nil {
		p.idleConnect = *g.IdleConnect
	}
	if p.idleConnect {
		adds = append(adds, kit.DriverAdd{What: "cc.Connect() whenever the channel goes IDLE (client.library.grpc.idle_connect)", Why: "after a loss pick_first goes IDLE and makes no attempt until an RPC or cc.Connect() asks (idle_reconnect: on_demand; pickfirst.go updateSubConnState(): idlePicker; grpc-go #4298); an application that wants its channel back must ask, and so does the driver, so that the back-off can be observed; client.library.grpc.idle_connect false turns this off"})
	} else {
		c.IdleReconnect.Cite += "; client.library.grpc.idle_connect false: the driver does not ask, so after a loss the channel stays IDLE until the next RPC (a send or request op)"
		c.FirstAttempt = kit.Term{Value: "immediate", Cite: citeFirstImmediate + "; client.library.grpc.idle_connect false: the driver never asks, so after a loss the channel stays IDLE until an RPC (a send) asks"}
	}

	p.serviceConf = serviceConfig(p.lb, p.shuffle)
	p.opts = []grpc.DialOption{
		grpc.WithConnectParams(cp),
		grpc.WithDefaultServiceConfig(p.serviceConf),
	}
	pr := &Params{
		InitialMS: ms(cp.Backoff.BaseDelay), Multiplier: cp.Backoff.Multiplier, MaxMS: ms(cp.Backoff.MaxDelay),
		Jitter: cp.Backoff.Jitter, FirstWaitExact: true, MinConnectTimeoutMS: ms(cp.MinConnectTimeout),
		OverlapMS: ms(happyEyeballs), LBPolicy: p.lb, ShuffleAddressList: p.shuffle, IdleConnect: p.idleConnect, Client: name,
	}
	if p.ka != nil {
		p.opts = append(p.opts, grpc.WithKeepaliveParams(*p.ka))
		pr.KeepaliveTimeMS, pr.KeepaliveTimeoutMS = fptr(ms(p.ka.Time)), fptr(ms(p.ka.Timeout))
		pr.DetectMS = fptr(ms(p.ka.Time + p.ka.Timeout))
	}
	c.Params = pr
	c.Unsupported = unsup
	c.DriverAdds = adds
	if err := misconfigure(p, against()); err != nil { // FAULTLINE_GRPC_AGAINST (against.go)
		return nil, err
	}
	return p, nil
}

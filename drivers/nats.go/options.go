package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"sync"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"github.com/nats-io/nats.go"
)

// plan is what a connect asks of nats.go: the options (callbacks and the
// dialer are the session's, added in session.go) and the effective contract.
type plan struct {
	opts      []nats.Option
	contract  *Contract
	reconnect bool          // reconnection on (NoReconnect otherwise)
	migrate   bool          // ForceReconnect from LameDuckModeHandler
	timeout   time.Duration // nats.go's Timeout, which the dialer honours too
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fptr(f float64) *float64 { return &f }

func durMS(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// lockedRand is a client's seeded random stream (jitter of the exponential
// strategy); nats.go calls the delay callback from its reconnect goroutine.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// expDelay is faultline's delay n (from 0): min(initial·mult^n, max), scaled
// by a uniform factor in [1-jitter, 1].
func expDelay(st *kit.StrategyOptions, n int, rnd *lockedRand) time.Duration {
	d := st.DelayMS(n)
	if math.IsInf(d, 0) || d > float64(math.MaxInt64/int64(time.Millisecond)) {
		d = float64(math.MaxInt64 / int64(time.Millisecond))
	}
	if st.Jitter > 0 {
		d *= 1 - st.Jitter*rnd.Float64()
	}
	return durMS(d)
}

// planFor maps the scenario's options onto nats.go's public API and says
// what that amounts to.
func planFor(servers []string, raw json.RawMessage, name string, rnd *lockedRand) (*plan, error) {
	co, err := kit.ParseConnectOptions(raw)
	if err != nil {
		return nil, err
	}
	c := builtin()
	p := &plan{contract: c, reconnect: true}
	var add []nats.Option
	var unsup []kit.Unsupported
	var adds []kit.DriverAdd
	multi := len(servers) > 1

	add = append(add, nats.Name(name))
	// The first connect's failure is final: faultline's first connection
	// either cascades to CONNECTED_ACTIVE or closes CLOSED_FAILED
	// (connection_error), and the connect op is answered then. With
	// RetryOnFailedConnect nats.go would return a non-connected *Conn and go
	// on in doReconnect(), which is not what a scenario's first connect asks.
	add = append(add, nats.RetryOnFailedConnect(false))

	if co.Principal != "" || co.Credentials != "" {
		add = append(add, nats.UserInfo(co.Principal, co.Credentials))
	}

	// Failover and load balancing.
	fo := co.Failover
	lb := fo != nil && fo.LoadBalancing
	if !lb {
		add = append(add, nats.DontRandomize())
		c.Shuffle = kit.Term{Value: "none", Cite: citeNoShuffle}
	}
	if multi {
		c.FirstAttempt = kit.Term{Value: "immediate", Cite: citeFirstImmediate}
	} else {
		c.FirstAttempt = kit.Term{Value: "after_delay", Cite: citeFirstAfterDelay}
	}
	if fo != nil && multi && !fo.Cascading {
		unsup = append(unsup, kit.Unsupported{Option: "failover.cascading", Reason: "false cannot be expressed: nats.go connect() always walks the whole pool at the first connect"})
	}

	// Reconnection.
	r := co.Reconnect
	if co.ReconnectOff() {
		p.reconnect = false
		add = append(add, nats.NoReconnect())
		c.Buffer = kit.Term{Value: "none", Cite: citeBufferNone}
		if fo != nil && fo.Auto && multi {
			unsup = append(unsup, kit.Unsupported{Option: "failover.auto", Reason: "with reconnect.enabled false nats.go (NoReconnect(): Opts.AllowReconnect false, processOpErr()) closes on the first loss: it has no failover without reconnection"})
		}
	}
	// Autofailover off is expressible only with reconnection off
	// (NoReconnect(): a loss closes, no other server is tried).
	if fo != nil && multi && !fo.Auto && p.reconnect {
		unsup = append(unsup, kit.Unsupported{Option: "failover.auto", Reason: "false cannot be expressed with reconnection on: after a loss nats.go's doReconnect() always moves on to the next server of its pool (selectNextServer()); reconnecting to the same server only would need ReconnectToServer, i.e. server choice made by the driver (with reconnect.enabled false NoReconnect() closes on the loss: no failover)"})
	}
	st := co.Strategy()
	if st != nil && st.InitialMS > 0 {
		switch st.Backoff {
		case "fixed":
			// faultline's fixed delay d jittered by [1-j, 1] is the band
			// [d(1-j), d]; nats.go's additive jitter gives [wait, wait+J):
			// wait = d(1-j), J = d·j is the same band.
			j := min(max(st.Jitter, 0), 1)
			wait := durMS(st.InitialMS * (1 - j))
			jit := durMS(st.InitialMS * j)
			add = append(add, nats.ReconnectWait(wait), nats.ReconnectJitter(jit, jit))
			c.Delay = kit.Term{Value: "constant", Cite: citeConstant + fmt.Sprintf("; ReconnectWait(%gms)", ms(wait))}
			if jit > 0 {
				c.Jitter = kit.Term{Value: "added", Cite: citeJitterAdded + fmt.Sprintf("; ReconnectJitter(%gms): [%gms, %gms) is the scenario's d·[1-j,1] band", ms(jit), ms(wait), st.InitialMS)}
			} else {
				c.Jitter = kit.Term{Value: "none", Cite: "nats.go doReconnect(): no jitter when Opts.ReconnectJitter is 0 (ReconnectJitter(0, 0))"}
			}
		default: // exponential
			s := *st
			crd := func(attempts int) time.Duration { return expDelay(&s, attempts-1, rnd) }
			add = append(add, nats.CustomReconnectDelay(crd))
			c.Delay = kit.Term{Value: "exponential", Cite: "nats.go doReconnect(): st = crd(wlf) with Opts.CustomReconnectDelayCB, wlf = passes over the pool (1, 2, ...); the driver's callback returns min(initial·multiplier^(wlf-1), max)"}
			c.DelayApplies = kit.Term{Value: "per_pass", Cite: citePerPass + "; CustomReconnectDelay is called once per pass, so the exponential delay grows per pass, not per attempt"}
			if s.Jitter > 0 {
				c.Jitter = kit.Term{Value: "below", Cite: "driver: the CustomReconnectDelay callback scales the delay by a uniform factor in [1-jitter, 1] (seeded per client); nats.go doReconnect() adds no jitter of its own with a custom delay"}
			} else {
				c.Jitter = kit.Term{Value: "none", Cite: "nats.go doReconnect(): with Opts.CustomReconnectDelayCB the delay is crd(wlf) as returned, ReconnectJitter unused"}
			}
			adds = append(adds, kit.DriverAdd{What: "CustomReconnectDelay computing min(initial·multiplier^(pass-1), max)·U[1-jitter,1]", Why: "nats.go has no exponential back-off of its own (only the CustomReconnectDelay hook, issue #442); the formula is the scenario's, applied per pass over the pool"})
			if multi {
				unsup = append(unsup, kit.Unsupported{Option: "reconnect.strategy", Reason: "per-attempt delays cannot be expressed with more than one server: nats.go sleeps once per pass over the pool (doReconnect()), N-1 attempts of a pass are immediate"})
			}
		}
	}
	if st != nil {
		if st.Attempts > 0 {
			add = append(add, nats.MaxReconnects(st.Attempts))
			c.AttemptLimit = kit.Term{Value: "per_server", Cite: citePerServer}
			if multi {
				unsup = append(unsup, kit.Unsupported{Option: "reconnect.strategy.attempts", Reason: fmt.Sprintf("a per-client limit cannot be expressed: nats.go's MaxReconnects counts per server (selectNextServer()), so %d servers allow up to %d attempts", len(servers), len(servers)*st.Attempts)})
			}
		} else {
			add = append(add, nats.MaxReconnects(-1))
			c.AttemptLimit = kit.Term{Value: "none", Cite: citeNoLimit}
		}
	}
	if r != nil && r.TimeoutMS > 0 && p.reconnect {
		unsup = append(unsup, kit.Unsupported{Option: "reconnect.timeout_ms", Reason: "nats.go has no overall reconnection deadline (doReconnect() gives up only when MaxReconnects empties the pool); the driver does not emulate one"})
	}
	if r != nil && r.RetentionMS > 0 {
		unsup = append(unsup, kit.Unsupported{Option: "reconnect.retention_ms", Reason: "core NATS has no server-side session to retain: every reconnect is a new connection (new client id), subscriptions are re-sent by resendSubscriptions()"})
	}
	if r != nil && r.Buffer > 0 {
		add = append(add, nats.ReconnectBufSize(r.Buffer))
		if p.reconnect {
			c.Buffer = kit.Term{Value: "while_reconnecting", Cite: citeBufferReconnect + fmt.Sprintf("; ReconnectBufSize(%d)", r.Buffer)}
		}
		unsup = append(unsup, kit.Unsupported{Option: "reconnect.buffer", Reason: fmt.Sprintf("faultline's buffer counts sends kept until acknowledged; nats.go's ReconnectBufSize counts bytes of protocol buffered only while RECONNECTING (publish(), atLimitIfUsingPending()), nothing is kept for acknowledgement (core NATS is at-most-once): mapped as %d bytes", r.Buffer)})
	}

	// Connect timeout: dial (the driver's dialer honours it) and handshake
	// (processConnectInit() sets the deadline).
	p.timeout = nats.DefaultTimeout
	if co.ConnectTimeoutMS > 0 {
		p.timeout = time.Duration(co.ConnectTimeoutMS) * time.Millisecond
		add = append(add, nats.Timeout(p.timeout))
	}

	// Liveness L: PING every L/3, stale when more than 2 are outstanding.
	// processPingTimer() ticks every PingInterval p (not reset by traffic),
	// pout++ and stale when pout > MaxPingsOut k: after the link goes
	// silent the loss is detected within (k·p, (k+1)·p] = (2L/3, L].
	if co.LivenessMS > 0 {
		pi := time.Duration(co.LivenessMS) * time.Millisecond / 3
		add = append(add, nats.PingInterval(pi), nats.MaxPingsOutstanding(2))
		c.Liveness = kit.Term{Value: "ping", Cite: citePing + fmt.Sprintf("; PingInterval(%gms) = liveness/3, MaxPingsOutstanding(2): a silent link is declared stale within (2·%g, 3·%g]ms = (%g, %d]ms", ms(pi), ms(pi), ms(pi), 2*ms(pi), co.LivenessMS)}
	}

	// Lame duck mode and migration.
	if co.MigrationOn() {
		p.migrate = true
		c.LameDuck = kit.Term{Value: "reconnect", Cite: citeLameDuckForce}
		adds = append(adds, kit.DriverAdd{What: "nc.ForceReconnect() from LameDuckModeHandler", Why: "options.migration.enabled: nats.go itself only notifies (processInfo() pushes LameDuckModeHandler); moving off a server in lame duck mode is left to the application"})
		if co.Migration.TimeoutMS > 0 {
			unsup = append(unsup, kit.Unsupported{Option: "migration.timeout_ms", Reason: "no bound on reaching another server after ForceReconnect() other than the per-attempt Timeout"})
		}
	}
	if co.IsRouter() {
		unsup = append(unsup, kit.Unsupported{Option: "router", Reason: "nats.go is not a router: one connection to one server at a time"})
	}

	// Against the scenario's intent, on purpose: FAULTLINE_NATS_AGAINST
	// names settings an application might get wrong, so that one command
	// shows the harness catching it (README, "Misconfigured on purpose").
	// The effective contract says what was done.
	for _, a := range against() {
		switch a {
		case "dont_randomize":
			add = append(add, nats.DontRandomize())
			c.Shuffle = kit.Term{Value: "none", Cite: "FAULTLINE_NATS_AGAINST=dont_randomize: DontRandomize() set against the scenario's load_balancing"}
		case "no_jitter":
			add = append(add, nats.ReconnectJitter(0, 0))
			c.Jitter = kit.Term{Value: "none", Cite: "FAULTLINE_NATS_AGAINST=no_jitter: ReconnectJitter(0, 0) set against the scenario's jitter"}
		case "ignore_discovered":
			add = append(add, nats.IgnoreDiscoveredServers())
			c.Discovery = kit.Term{Value: "ignore", Cite: citeDiscoveryIgnore + "; FAULTLINE_NATS_AGAINST=ignore_discovered: IgnoreDiscoveredServers() set"}
		default:
			return nil, fmt.Errorf("FAULTLINE_NATS_AGAINST: unknown setting %q (dont_randomize, no_jitter, ignore_discovered)", a)
		}
		adds = append(adds, kit.DriverAdd{What: "FAULTLINE_NATS_AGAINST=" + a, Why: "configured against the scenario's intent on purpose"})
	}

	// Read back what nats.go will run with.
	o := nats.GetDefaultOptions()
	for _, f := range add {
		if err := f(&o); err != nil {
			return nil, err
		}
	}
	if o.MaxPingsOut == 0 {
		o.MaxPingsOut = nats.DefaultMaxPingOut // as Options.Connect() does
	}
	if o.ReconnectBufSize == 0 {
		o.ReconnectBufSize = nats.DefaultReconnectBufSize
	}
	pr := &Params{
		MaxReconnects: o.MaxReconnect, PingIntervalMS: ms(o.PingInterval), MaxPingsOut: o.MaxPingsOut,
		TimeoutMS: ms(o.Timeout), Randomize: !o.NoRandomize, Reconnect: o.AllowReconnect,
		BufferBytes: o.ReconnectBufSize, RetryOnFailedConnect: o.RetryOnFailedConnect, Name: o.Name,
	}
	if o.CustomReconnectDelayCB == nil {
		pr.ReconnectWaitMS, pr.JitterMS = fptr(ms(o.ReconnectWait)), fptr(ms(o.ReconnectJitter))
	} else {
		pr.InitialMS, pr.Multiplier, pr.MaxMS, pr.Jitter = fptr(st.InitialMS), fptr(st.EffectiveMultiplier()), fptr(st.MaxMS), fptr(st.Jitter)
	}
	c.Params = pr
	c.Unsupported = unsup
	c.DriverAdds = adds
	p.opts = add
	return p, nil
}

// against lists FAULTLINE_NATS_AGAINST's settings (comma-separated).
func against() []string { return kit.Settings(os.Getenv("FAULTLINE_NATS_AGAINST")) }

package main

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Misconfigured on purpose (README, "Misconfigured on purpose"):
// FAULTLINE_GRPC_AGAINST names settings a gRPC application gets wrong, so
// that one command shows faultline catching it. Never on by default.
//
// The effective contract is left as the scenario's options make it: it is
// what the application believes it configured, the numbers the checks hold
// the library to. What was really done is said in driver_adds, one entry
// per setting, naming the variable.
const envAgainst = "FAULTLINE_GRPC_AGAINST"

// The settings.
const (
	// againstNoBackoff: grpc.WithConnectParams given a ConnectParams with
	// only MinConnectTimeout set, as in grpc-go #6094: the zero
	// backoff.Config is taken as it is (dialoptions.go WithConnectParams()
	// copies p.Backoff, no defaults filled in), so every wait is 0
	// (internal/backoff/backoff.go Exponential.Backoff(): BaseDelay 0 for
	// retries 0, then 0·Multiplier, jitter around 0): a tight reconnect loop.
	againstNoBackoff = "no_backoff"
	// againstNoKeepalive: the scenario's liveness is ignored: no keepalive
	// PINGs (keepalive.ClientParameters Time infinity, grpc-go's default:
	// internal/transport/http2_client.go newHTTP2Client() starts keepalive()
	// only when kp.Time != infinity), so a silent link goes unnoticed.
	againstNoKeepalive = "no_keepalive"
)

// againstKnown lists the settings, for an error.
var againstKnown = []string{againstNoBackoff, againstNoKeepalive}

// against lists FAULTLINE_GRPC_AGAINST's settings (comma-separated).
func against() []string { return kit.Settings(os.Getenv(envAgainst)) }

// misconfigure applies settings to p: each adds a dial option after p's own
// (a later grpc.DialOption of the same kind wins) and a driver_adds entry.
// An unknown setting refuses the connect.
func misconfigure(p *plan, settings []string) error {
	for _, a := range settings {
		var what string
		switch a {
		case againstNoBackoff:
			p.opts = append(p.opts, grpc.WithConnectParams(grpc.ConnectParams{MinConnectTimeout: p.cp.MinConnectTimeout}))
			what = fmt.Sprintf("grpc.WithConnectParams(grpc.ConnectParams{MinConnectTimeout: %v}) with no Backoff (grpc-go #6094): the zero backoff.Config makes every wait 0 (internal/backoff Exponential.Backoff()), a tight reconnect loop, where the contract's params state the intended back-off", p.cp.MinConnectTimeout)
		case againstNoKeepalive:
			p.opts = append(p.opts, grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: time.Duration(math.MaxInt64)}))
			what = "the scenario's liveness ignored: keepalive Time infinity (grpc-go's default, no keepalive PING: http2_client.go newHTTP2Client() starts keepalive() only when Time != infinity), where the contract states the intended keepalive"
		default:
			return fmt.Errorf("%s: unknown setting %q (%s)", envAgainst, a, strings.Join(againstKnown, ", "))
		}
		p.contract.DriverAdds = append(p.contract.DriverAdds, kit.DriverAdd{What: envAgainst + "=" + a + ": " + what, Why: "configured against the scenario's intent on purpose"})
	}
	return nil
}

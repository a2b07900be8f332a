package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/faultline/faultline/drivers/kit"
)

// pahoInitialSleep is reconnect()'s hard-coded initSleep (client.go).
const pahoInitialSleep = time.Second

// plan is what a connect asks of paho: the options (callbacks and the
// connection opener are the session's, added in session.go), the QoS of
// every subscribe and send, and the effective contract.
type plan struct {
	opts        *mqtt.ClientOptions
	qos         byte
	reconnect   bool
	resubscribe bool // the driver re-subscribes in OnConnect
	contract    *Contract
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// planFor maps the scenario's options onto paho's public API
// (mqtt.ClientOptions setters) and says what that amounts to.
func planFor(servers []string, raw json.RawMessage, clientID string) (*plan, error) {
	co, err := kit.ParseConnectOptions(raw)
	if err != nil {
		return nil, err
	}
	c := builtin()
	o := mqtt.NewClientOptions()
	p := &plan{opts: o, contract: c, reconnect: true, resubscribe: true}
	var unsup []kit.Unsupported
	var adds []kit.DriverAdd
	multi := len(servers) > 1

	for _, s := range servers {
		o.AddBroker(s)
	}
	if len(o.Servers) != len(servers) {
		return nil, fmt.Errorf("connect: paho AddBroker could not parse every server URL: %v", servers)
	}
	o.SetClientID(clientID)
	// The first connect's failure is final: faultline's first connection
	// cascades to CONNECTED_ACTIVE or closes CLOSED_FAILED, and the connect
	// op is answered then. ConnectRetry would retry the pass every
	// ConnectRetryInterval for ever with the token pending.
	o.SetConnectRetry(false)
	if co.Principal != "" || co.Credentials != "" {
		o.SetUsername(co.Principal)
		o.SetPassword(co.Credentials)
	}
	o.SetCleanSession(!co.KeepSession)

	switch co.Delivery {
	case "", "at_most_once":
		p.qos = 0
	case "at_least_once":
		p.qos = 1
	default:
		return nil, fmt.Errorf("bad options: delivery %q (at_most_once, at_least_once)", co.Delivery)
	}

	// Failover and load balancing: paho walks the list from the top on
	// every pass, never shuffled.
	fo := co.Failover
	if fo != nil && fo.LoadBalancing && multi {
		unsup = append(unsup, kit.Unsupported{Option: "failover.load_balancing", Reason: "paho.mqtt.golang never shuffles its brokers (options.go AddBroker() keeps call order; client.go attemptConnection() ranges over them as given)"})
	}
	if fo != nil && multi && !fo.Cascading {
		unsup = append(unsup, kit.Unsupported{Option: "failover.cascading", Reason: "false cannot be expressed: client.go attemptConnection() always walks the whole broker list at the first connect"})
	}

	// Reconnection.
	r := co.Reconnect
	if co.ReconnectOff() {
		p.reconnect = false
	}
	st := co.Strategy()
	if st != nil && (st.MaxMS > 0 || st.InitialMS > 0) {
		strategy(o, c, st, &unsup)
	}
	if st != nil && st.Attempts > 0 && p.reconnect {
		unsup = append(unsup, kit.Unsupported{Option: "reconnect.strategy.attempts", Reason: "paho.mqtt.golang has no attempt limit: client.go reconnect() retries until it succeeds or Disconnect() is called; the driver does not emulate one"})
	}
	if r != nil && r.TimeoutMS > 0 && p.reconnect {
		unsup = append(unsup, kit.Unsupported{Option: "reconnect.timeout_ms", Reason: "paho.mqtt.golang has no overall reconnection deadline (client.go reconnect() loops until success or Disconnect()); the driver does not emulate one"})
	}
	if r != nil && r.RetentionMS > 0 {
		unsup = append(unsup, kit.Unsupported{Option: "reconnect.retention_ms", Reason: "MQTT 3.1.1 CONNECT carries no session lifetime: with keep_session (clean session 0) the broker keeps the session as long as its own configuration says (mosquitto persistent_client_expiration)"})
	}
	if r != nil && r.Buffer > 0 {
		unsup = append(unsup, kit.Unsupported{Option: "reconnect.buffer", Reason: fmt.Sprintf("paho.mqtt.golang's Store (MemoryStore) has no bound, and QoS 0 publishes are not buffered at all (client.go Publish()): the buffer of %d sends cannot be expressed", r.Buffer)})
	}

	// Connect timeout: the dial (Dialer.Timeout, which the driver's opener
	// uses) and the CONNECT→CONNACK deadline (attemptConnection()).
	if co.ConnectTimeoutMS > 0 {
		o.SetConnectTimeout(time.Duration(co.ConnectTimeoutMS) * time.Millisecond)
	}

	// Liveness L: KeepAlive K whole seconds, checked every K/4 (ping.go
	// keepalive()); a PINGREQ goes out on the first check at least K after
	// the last packet received, and the link is declared lost on the next
	// check when its PINGRESP has not come (PingTimeout K/8 < K/4): within
	// K + K/4 + K/4 = 1.5·K of silence. K = ⌊L/1.5⌋ s, at least 1 s.
	if co.LivenessMS > 0 {
		k := max(co.LivenessMS*2/3/1000, 1)
		o.SetKeepAlive(time.Duration(k) * time.Second)
		o.SetPingTimeout(time.Duration(k) * time.Second / 8)
		bound := time.Duration(k) * time.Second * 3 / 2
		c.Liveness = kit.Term{Value: "ping", Cite: citePing + fmt.Sprintf("; SetKeepAlive(%ds), SetPingTimeout(%gms): PINGREQ on the first check (every %gms) at least %ds after the last packet, lost at the next check without PINGRESP: a silent link is declared lost within %gms", k, ms(o.PingTimeout), ms(time.Duration(k)*time.Second/4), k, ms(bound))}
		if bound > time.Duration(co.LivenessMS)*time.Millisecond {
			unsup = append(unsup, kit.Unsupported{Option: "liveness_ms", Reason: fmt.Sprintf("%dms cannot be expressed: paho's keepalive is whole seconds (options.go SetKeepAlive() stores int64(k/time.Second); 0 disables it) and is checked every KeepAlive/4 (ping.go keepalive()), so the fastest bound is KeepAlive 1 s: a silent link is declared lost within %gms", co.LivenessMS, ms(bound))})
		}
	}

	// Lame duck mode, migration and routing: nothing in MQTT 3.1.1.
	if co.MigrationOn() {
		unsup = append(unsup, kit.Unsupported{Option: "migration.enabled", Reason: "MQTT 3.1.1 has no server-initiated move and paho.mqtt.golang acts on none (net.go startIncomingComms())"})
	}
	if co.IsRouter() {
		unsup = append(unsup, kit.Unsupported{Option: "router", Reason: "paho.mqtt.golang is not a router: one connection to one broker at a time"})
	}

	// Against the scenario's intent, on purpose: FAULTLINE_MQTT_AGAINST
	// names settings an application might get wrong, so that one command
	// shows the harness catching it (README, "Misconfigured on purpose").
	for _, a := range against() {
		switch a {
		case "no_reconnect":
			p.reconnect = false
		case "clean_session":
			o.SetCleanSession(true)
		case "no_resubscribe":
			p.resubscribe = false
		default:
			return nil, fmt.Errorf("FAULTLINE_MQTT_AGAINST: unknown setting %q (no_reconnect, clean_session, no_resubscribe)", a)
		}
		adds = append(adds, kit.DriverAdd{What: "FAULTLINE_MQTT_AGAINST=" + a, Why: "configured against the scenario's intent on purpose"})
	}
	o.SetAutoReconnect(p.reconnect)

	// The terms that follow from reconnection and QoS together.
	switch {
	case !p.reconnect:
		c.Delivery = kit.Term{Value: "at_most_once", Cite: citeNoReconnectLost}
		c.Buffer = kit.Term{Value: "none", Cite: citeBufferNone}
		if fo != nil && fo.Auto && multi {
			unsup = append(unsup, kit.Unsupported{Option: "failover.auto", Reason: "with reconnection off (SetAutoReconnect(false)) a loss ends the client (client.go internalConnLost()): no other broker is tried"})
		}
	case p.qos == 1:
		c.Delivery = kit.Term{Value: "at_least_once", Cite: citeAtLeastOnce}
		c.Buffer = kit.Term{Value: "while_reconnecting", Cite: citeBufferQoS1}
	default:
		c.Delivery = kit.Term{Value: "at_most_once", Cite: citeAtMostOnce}
		c.Buffer = kit.Term{Value: "none", Cite: citeBufferQoS0}
	}
	if fo != nil && multi && !fo.Auto && p.reconnect {
		unsup = append(unsup, kit.Unsupported{Option: "failover.auto", Reason: "false cannot be expressed with reconnection on: every reconnect pass walks the whole broker list from the top (client.go attemptConnection())"})
	}

	// What the driver adds: its connection opener, and subscriptions
	// after a reconnect.
	adds = append(adds, kit.DriverAdd{What: "SetCustomOpenConnectionFn: dials uri.Host with the options' Dialer (Dialer.Timeout = ConnectTimeout), as netconn.go openConnection() does for mqtt:// and tcp://, without its ALL_PROXY lookup", Why: "dial events with the harness's URLs, the CONNACK each broker answered, and no new connection once the session is closed"})
	if p.resubscribe {
		adds = append(adds, kit.DriverAdd{What: "re-subscribes every subscribed topic in OnConnect when the broker's CONNACK says session present 0", Why: "paho.mqtt.golang does not re-send subscriptions after a reconnect (reconnect() → resume() re-sends only SUBSCRIBEs still unacknowledged in the Store, and only with ResumeSubs); Subscribe()'s and SetConnectRetry()'s docs tell the application to subscribe in the OnConnect handler"})
	}

	c.Params = paramsOf(o, p)
	c.Unsupported = unsup
	c.DriverAdds = adds
	return p, nil
}

// strategy maps the scenario's back-off onto MaxReconnectInterval, paho's
// only knob: its sleeps between passes are min(1s·2^n, max), or max for
// every sleep when max < 1 s (backoff.go getBackoffSleepTime()).
func strategy(o *mqtt.ClientOptions, c *Contract, st *kit.StrategyOptions, unsup *[]kit.Unsupported) {
	want := st.DelayMS // the scenario's delay n, without jitter
	capMS := st.MaxMS
	if st.Backoff == "fixed" {
		capMS = st.InitialMS
	}
	if capMS > 0 {
		o.SetMaxReconnectInterval(time.Duration(capMS * float64(time.Millisecond)))
	}
	mx := o.MaxReconnectInterval
	if mx <= pahoInitialSleep {
		c.Delay = kit.Term{Value: "constant", Cite: citeConstant + fmt.Sprintf("; SetMaxReconnectInterval(%gms)", ms(mx))}
	} else {
		c.Delay = kit.Term{Value: "exponential", Cite: citeExponential + fmt.Sprintf("; SetMaxReconnectInterval(%gms): 1 s, 2 s, 4 s … up to it", ms(mx))}
	}
	for n := 0; n < 20; n++ {
		if got := ms(pahoDelay(n, mx)); math.Abs(got-want(n)) > 0.001 {
			*unsup = append(*unsup, kit.Unsupported{Option: "reconnect.strategy", Reason: fmt.Sprintf("%s from %gms cannot be expressed: paho's sleep between passes starts at 1 s (initSleep, hard-coded in client.go reconnect()) and doubles up to MaxReconnectInterval (backoff.go getBackoffSleepTime()), the only setting; mapped as SetMaxReconnectInterval(%gms): delay %d would be %gms, the scenario's %gms", orStr(st.Backoff, "exponential"), st.InitialMS, ms(mx), n, got, want(n))})
			break
		}
	}
	if st.Jitter > 0 {
		*unsup = append(*unsup, kit.Unsupported{Option: "reconnect.strategy.jitter", Reason: "paho.mqtt.golang adds no jitter (backoff.go getBackoffSleepTime())"})
	}
}

// pahoDelay is paho's sleep after the n-th failed pass (from 0) of an
// outage whose back-off did not reset: min(1s·2^n, max), max when max < 1s.
func pahoDelay(n int, mx time.Duration) time.Duration {
	d := min(pahoInitialSleep, mx)
	for i := 0; i < n && d < mx; i++ {
		d = min(d*2, mx)
	}
	return d
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// paramsOf reads back what paho will run with.
func paramsOf(o *mqtt.ClientOptions, p *plan) *Params {
	pr := &Params{
		ClientID: o.ClientID, CleanSession: o.CleanSession, QoS: int(p.qos), AutoReconnect: o.AutoReconnect,
		KeepAliveS: o.KeepAlive, PingTimeoutMS: ms(o.PingTimeout), ConnectTimeoutMS: ms(o.ConnectTimeout),
		MaxReconnectIntervalMS: ms(o.MaxReconnectInterval), ConnectRetry: o.ConnectRetry, ResumeSubs: o.ResumeSubs,
		OrderMatters: o.Order, WriteTimeoutMS: ms(o.WriteTimeout), ProtocolVersion: o.ProtocolVersion,
		Username: o.Username != "", Resubscribe: p.resubscribe,
		// backoff.go: the initial sleep is the max when the max is smaller.
		InitialMS: ms(min(pahoInitialSleep, o.MaxReconnectInterval)), Multiplier: 2, MaxMS: ms(o.MaxReconnectInterval),
	}
	for _, u := range o.Servers {
		pr.Brokers = append(pr.Brokers, u.String())
	}
	return pr
}

// against lists FAULTLINE_MQTT_AGAINST's settings (comma-separated).
func against() []string { return kit.Settings(os.Getenv("FAULTLINE_MQTT_AGAINST")) }

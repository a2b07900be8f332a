package main

// The connection-management contract (docs/driver-protocol.md, "The SDK
// contract"): each term's value with a citation to paho.mqtt.golang's own
// source at v1.5.1 (the file and function named). Read from
// $(go env GOMODCACHE)/github.com/eclipse/paho.mqtt.golang@v1.5.1.

import (
	"encoding/json"

	"github.com/faultline/faultline/drivers/kit"
)

// Params are the numbers paho runs with, read back from the
// mqtt.ClientOptions the connect built. initial_ms, multiplier, max_ms and
// jitter describe its reconnect back-off in the harness's per-pass terms
// (pass p ≥ 1 sleeps min(initial·multiplier^(p−1), max)).
type Params struct {
	Brokers                []string `json:"brokers"`
	ClientID               string   `json:"client_id"`
	CleanSession           bool     `json:"clean_session"`
	QoS                    int      `json:"qos"`
	AutoReconnect          bool     `json:"auto_reconnect"`
	KeepAliveS             int64    `json:"keepalive_s"`
	PingTimeoutMS          float64  `json:"ping_timeout_ms"`
	ConnectTimeoutMS       float64  `json:"connect_timeout_ms"`
	MaxReconnectIntervalMS float64  `json:"max_reconnect_interval_ms"`
	ConnectRetry           bool     `json:"connect_retry"`
	ResumeSubs             bool     `json:"resume_subs"`
	OrderMatters           bool     `json:"order_matters"`
	WriteTimeoutMS         float64  `json:"write_timeout_ms"`
	ProtocolVersion        uint     `json:"protocol_version"` // 0: 3.1.1, falling back to 3.1 until a first success
	Username               bool     `json:"username"`
	Resubscribe            bool     `json:"resubscribe"` // the driver's re-subscription in OnConnect
	InitialMS              float64  `json:"initial_ms"`
	Multiplier             float64  `json:"multiplier"`
	MaxMS                  float64  `json:"max_ms"`
	Jitter                 float64  `json:"jitter"`
}

// Contract is paho's built-in contract (hello) or its effective one
// (connect reply, with Params, Unsupported and DriverAdds): the common
// terms, and the MQTT ones kit.Contract does not have.
type Contract struct {
	kit.Contract[Params]
	// Refusal: what paho does once a broker refused its CONNECT.
	Refusal kit.Term `json:"refusal"`
	// Resubscribe: who subscribes again after a reconnect onto a session
	// the broker does not hold. Effective: written from Params.Resubscribe
	// (MarshalJSON).
	Resubscribe kit.Term `json:"resubscribe"`
}

// MarshalJSON writes the contract with the resubscribe term the connect
// settled: the driver's re-subscription (Params.Resubscribe, set by
// planFor from FAULTLINE_MQTT_AGAINST) is what the application gets, the
// library's own term otherwise.
func (c Contract) MarshalJSON() ([]byte, error) {
	type plain Contract // without this method
	p := plain(c)
	if c.Params != nil && c.Params.Resubscribe {
		p.Resubscribe = kit.Term{Value: "driver", Cite: citeResubDriver + "; the library itself: " + citeResubNone}
	}
	return json.Marshal(p)
}

// Citations, shared by the built-in and the effective contract.
const (
	citeFirstImmediate  = "paho.mqtt.golang client.go reconnect(): c.backoff.sleepWithBackoff(\"connectionLost\", initSleep 1s, MaxReconnectInterval, 3s, skipFirst true) returns 0 for a first loss, and attemptConnection() runs at once; backoff.go getBackoffSleepTime(): a loss less than 2·3s + the last such sleep after the previous loss (an anti-flap rule) first sleeps 1s, then 2s, 4s … capped at MaxReconnectInterval"
	citePerPass         = "paho.mqtt.golang client.go reconnect(): one sleepWithBackoff(\"attemptReconnection\", …) after each failed attemptConnection(), which tries every broker of options.Servers once, in order, with no delay between brokers (a pass); the first pass of an outage runs without a sleep (first_attempt)"
	citeExponential     = "paho.mqtt.golang backoff.go getBackoffSleepTime(): the first failed pass sleeps initSleepPeriod (initSleep = 1 * time.Second, hard-coded in client.go reconnect()), each later one lastSleepPeriod·2, capped at maxSleepPeriod = MaxReconnectInterval (options.go NewClientOptions(): 10 min); when initSleepPeriod > maxSleepPeriod the initial sleep is the max (\"Prioritize maxSleep\"), so a MaxReconnectInterval under 1 s gives a constant delay"
	citeConstant        = "paho.mqtt.golang backoff.go getBackoffSleepTime(): initSleepPeriod (1s, client.go reconnect()) > maxSleepPeriod = MaxReconnectInterval makes the initial sleep the max, and lastSleepPeriod·2 is capped at the max: every sleep between passes is MaxReconnectInterval"
	citeNoJitter        = "paho.mqtt.golang backoff.go getBackoffSleepTime(): the sleep is initSleepPeriod or lastSleepPeriod·2 capped at the max, with no randomness"
	citeReset           = "paho.mqtt.golang backoff.go getBackoffSleepTime(): a success resets nothing (the backoffController is made once in client.go NewClient() and its \"attemptReconnection\" status outlives every connection); the delay restarts at 1 s only when the time since the previous failed pass (status.lastErrorTime) exceeds 2·ConnectTimeout + lastSleepPeriod (processTime = ConnectTimeout in client.go reconnect()): an outage starting soon after the previous one continues its doubling, and a pass that takes longer than 2·ConnectTimeout (two or more brokers timing out) restarts it at 1 s every time"
	citeNoLimit         = "paho.mqtt.golang client.go reconnect(): for { … attemptConnection() … } loops until a pass succeeds or the status is no longer reconnecting (Disconnect()); no attempt is counted against a limit"
	citeTop             = "paho.mqtt.golang client.go attemptConnection(): for _, broker := range c.options.Servers: every pass, the first connect's and each reconnect's, starts again at the first broker of the list"
	citeNoShuffle       = "paho.mqtt.golang options.go AddBroker() appends to options.Servers in call order and nothing in client.go reorders it (attemptConnection() ranges over it as given)"
	citeCascade         = "paho.mqtt.golang client.go Connect() → attemptConnection(false, 0): one pass over options.Servers in order, each broker up to ConnectTimeout (the dial via Dialer.Timeout, then conn.SetDeadline(now+ConnectTimeout) for CONNECT→CONNACK), no delay between brokers; the first CONNACK 0 wins. Until a first success the protocol version is not explicit: a broker that refuses or fails the MQTT 3.1.1 handshake is tried again at once with MQTT 3.1 (goto CONN), two CONNECTs per broker. ConnectRetry (false, options.go NewClientOptions()) is left off, so one pass decides"
	citePing            = "paho.mqtt.golang ping.go keepalive(): checks every KeepAlive/4 (5 s when KeepAlive > 10 s); sends PINGREQ when nothing was sent or nothing received for KeepAlive (whole seconds: options.go SetKeepAlive() stores int64(k/time.Second)); a PINGREQ still outstanding PingTimeout after it was sent → internalConnLost(\"pingresp not received, disconnecting\"); KeepAlive 0 starts no keepalive at all (client.go startCommsWorkers())"
	citeNoOverall       = "paho.mqtt.golang client.go reconnect(): no overall deadline: the loop ends only on success or Disconnect()"
	citeNoLameDuck      = "paho.mqtt.golang net.go startIncomingComms(): MQTT 3.1.1 has no server notice of going away; only PINGRESP, SUBACK, UNSUBACK, PUBLISH, PUBACK, PUBREC, PUBREL and PUBCOMP are acted on"
	citeAtMostOnce      = "paho.mqtt.golang client.go Publish() with QoS 0: the PUBLISH is handed once to the outgoing goroutine (net.go startOutgoingComms() completes its token after the write) and never stored (store.go persistOutbound() keeps only QoS > 0): it is lost with the connection it was written to"
	citeAtLeastOnce     = "paho.mqtt.golang client.go Publish() with QoS 1: store.go persistOutbound() puts the PUBLISH in the Store (MemoryStore by default, client.go NewClient()) under o.<id> until persistInbound() deletes it on its PUBACK; after every reconnect client.go reconnect() → resume() resends each stored PUBLISH with DUP set, whatever CleanSession (Connect() resets the store only at the first connect): at least once, duplicates possible"
	citeNoReconnectLost = "paho.mqtt.golang client.go internalConnLost(): with AutoReconnect false a loss ends the client (no reconnect(), so resume() never resends the Store; with CleanSession messageIds.cleanUp() fails every pending token \"connection lost before Publish completed\"): whatever QoS, a PUBLISH unacknowledged at the loss is not sent again"
	citeBufferQoS1      = "paho.mqtt.golang client.go Publish() while reconnecting (or during the loss, status disconnecting) with QoS 1: the PUBLISH is stored by persistOutbound() and not sent (\"storing publish message (reconnecting)\"); reconnect() → resume() sends it after the reconnect; the MemoryStore has no bound. resume() runs after startCommsWorkers() has set the status connected and started OnConnect, so a publish made in between is sent at once, ahead of the buffered ones, and again by resume() if its snapshot of the Store (storedKeys := c.persist.All()) caught it"
	citeBufferQoS0      = "paho.mqtt.golang client.go Publish(): `case c.status.ConnectionStatus() == reconnecting && qos == 0: token.flowComplete()`: a QoS 0 publish while reconnecting returns a completed token without error and is neither stored nor sent (the comment \"message written to store\" is wrong; issue #630); during the loss itself (status disconnecting) its token never completes and it is not sent either"
	citeBufferNone      = "paho.mqtt.golang client.go Publish(): with AutoReconnect false a loss leaves the client disconnected: IsConnected() is false and Publish() returns ErrNotConnected; nothing is buffered"
	citeDiscovery       = "paho.mqtt.golang: MQTT 3.1.1 advertises no other servers; the client connects only to options.Servers (options.go AddBroker())"
	citeRefusal         = "paho.mqtt.golang client.go attemptConnection(): a CONNACK other than 0 (connectMQTT() returns its rc) closes the connection and the loop goes on to the next broker of options.Servers, as after a dial error; until a first success (protocolVersionExplicit false) the same broker is first tried again at once with MQTT 3.1 (goto CONN), and protocolVersion is not reset per broker: the brokers after a refusing one get MQTT 3.1 too, and a success there locks 3.1 in (c.options.ProtocolVersion = protocolVersion). reconnect(): a pass that failed, refusals included, sleeps sleepWithBackoff(\"attemptReconnection\", …) and starts another, until a success or Disconnect(). Connect(): with ConnectRetry false (the driver's) a first connect whose pass failed ends with packets.ConnErrors[rc] of the last broker"
	citeResubNone       = "paho.mqtt.golang client.go reconnect() → resume(c.options.ResumeSubs, …): only SUBSCRIBE packets still in the Store (sent, not yet acknowledged) are sent again, and only with ResumeSubs (false, options.go NewClientOptions()); a subscription acknowledged on an earlier connection is never sent again, so after a reconnect onto a session the broker does not hold (a clean session, or CONNACK session present 0) the client has no subscription (Subscribe()'s doc: subscribe in the OnConnect handler)"
	citeResubDriver     = "driver: re-subscribes every subscribed topic with Client.Subscribe() in the OnConnect handler when the CONNACK says session present 0 (else the topics whose SUBACK never came), as paho's docs tell an application to (driver_adds)"
	citeCloseError      = "paho.mqtt.golang client.go attemptConnection(): rc and err are overwritten by each broker of the pass, so when every broker fails the Connect() token carries the last broker's error only: packets.ConnErrors[rc] for a refused CONNACK (\"not Authorized\"), else fmt.Errorf(\"%w : %w\", packets.ErrorNetworkError, err) for its dial or handshake error (\"network Error : dial tcp 127.0.0.1:…\"); no error names each broker tried"
)

// builtin is paho's contract with its defaults (options.go
// NewClientOptions()) and QoS 0, the driver's default delivery.
func builtin() *Contract {
	common := kit.Contract[Params]{
		FirstAttempt:   kit.Term{Value: "immediate", Cite: citeFirstImmediate},
		DelayApplies:   kit.Term{Value: "per_pass", Cite: citePerPass},
		Delay:          kit.Term{Value: "exponential", Cite: citeExponential},
		Jitter:         kit.Term{Value: "none", Cite: citeNoJitter},
		Reset:          kit.Term{Value: "never", Cite: citeReset},
		AttemptLimit:   kit.Term{Value: "none", Cite: citeNoLimit},
		Failover:       kit.Term{Value: "top", Cite: citeTop},
		Shuffle:        kit.Term{Value: "none", Cite: citeNoShuffle},
		FirstConnect:   kit.Term{Value: "cascade", Cite: citeCascade},
		Liveness:       kit.Term{Value: "ping", Cite: citePing + "; defaults KeepAlive 30 s, PingTimeout 10 s (options.go NewClientOptions())"},
		OverallTimeout: kit.Term{Value: "none", Cite: citeNoOverall},
		LameDuck:       kit.Term{Value: "none", Cite: citeNoLameDuck},
		Delivery:       kit.Term{Value: "at_most_once", Cite: citeAtMostOnce + " (QoS 1: at_least_once, " + citeAtLeastOnce + ")"},
		Buffer:         kit.Term{Value: "none", Cite: citeBufferQoS0 + " (QoS 1: while_reconnecting, " + citeBufferQoS1 + ")"},
		Discovery:      kit.Term{Value: "ignore", Cite: citeDiscovery},
		CloseError:     kit.Term{Value: "last_error", Cite: citeCloseError},
	}
	return &Contract{Contract: common,
		Refusal:     kit.Term{Value: "retry", Cite: citeRefusal},
		Resubscribe: kit.Term{Value: "none", Cite: citeResubNone},
	}
}

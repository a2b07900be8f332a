'use strict'
// MQTT.js 4.3.7's connection-management contract (docs/driver-protocol.md,
// "The SDK contract"): each term's value with a citation to the library's
// own source as Debian installs it (/usr/share/nodejs/mqtt, identical to
// upstream tag v4.3.7), file, function and line. builtin() is the contract
// with the library's defaults (the hello); options.js derives the effective
// one for a connect's options.

const F = 'MQTT.js 4.3.7 lib/client.js'
const IDX = 'MQTT.js 4.3.7 lib/connect/index.js'

const cite = {
  firstAfterDelay: `${F} _setupReconnect() (l.1112): on the stream's 'close' (the constructor's close handler, l.372) it arms reconnectTimer = setInterval(_reconnect, options.reconnectPeriod): the first attempt after a loss comes one reconnectPeriod after the loss, never at once`,
  perAttempt: `${F} _setupStream() (l.404) clears reconnectTimer (_clearReconnect()) as each attempt starts, and the attempt's own 'close' re-arms it in _setupReconnect(): the period is slept before every attempt, measured from the previous attempt's end, whichever server it goes to`,
  constant: `${F} _setupReconnect(): the delay is options.reconnectPeriod every time (defaultConnectOptions reconnectPeriod: 1000, l.29); nothing grows it`,
  noJitter: `${F} _setupReconnect(): setInterval(…, options.reconnectPeriod) exactly: no randomisation anywhere`,
  reset: `${F} _setupReconnect(): no back-off state is kept between attempts or outages (a constant period): every outage starts with the same period`,
  noLimit: `${F} _setupReconnect()/_reconnect() (l.1097): no attempt counter and no limit option: it retries every reconnectPeriod until end() is called`,
  next: `${IDX} connect() wrapper() (l.140): every stream built (first connect and each reconnect) takes opts.servers[client._reconnectCount] and increments it, wrapping to 0 at servers.length and never reset on success: after a loss on servers[i] the next attempt goes to servers[i+1]. README: "that array is iterated at every connect"`,
  noShuffle: `${IDX} connect() wrapper(): servers are taken in array order (client._reconnectCount); nothing shuffles them`,
  cascade: `${IDX} connect() wrapper(): the first connect dials servers[0]; a failed attempt closes its stream, _setupReconnect() arms the reconnect timer and the next attempt takes servers[1], and so on round the list for ever, one reconnectPeriod between attempts (not at once)`,
  single: `${F} _setupReconnect(): with reconnectPeriod 0 no reconnect timer is armed: a failed first attempt (servers[0] only) is final and nothing else is tried`,
  ping: `${F} _setupPingTimer() (l.1300): reInterval(_checkPing, keepalive·1000) from the CONNACK; _checkPing() (l.1327) sends PINGREQ if a PINGRESP came since the last one, else _cleanUp(true) destroys the stream (a loss); _shiftPingInterval() re-arms the timer on every packet sent (_sendPacket(), l.1224; reschedulePings: true), so a client sending more often than keepalive never checks and a silent link goes unnoticed while it sends. defaultConnectOptions keepalive: 60 (s)`,
  noOverall: `${F} _setupReconnect(): no overall reconnection deadline or option; only connectTimeout per attempt (the connackTimer in _setupStream(), l.516)`,
  noLameDuck: `${F} _handlePacket() (l.522): MQTT 3.1.1 (protocolVersion 4, the default) has no server notice of a move; an MQTT 5 DISCONNECT only emits 'disconnect' (_handleDisconnect(), l.1710) and reason 156 "Use another server" is a message in the errors table (l.81), never followed`,
  atMostOnce: `${F} _sendPacket() (l.1199): a QoS 0 PUBLISH is written to the socket (sendPacket()) and kept nowhere: one written into a connection that died before the loss was noticed is lost`,
  atLeastOnce: `${F} storeAndSend() (l.213): a QoS 1 PUBLISH is put in outgoingStore before it is written and deleted only at its PUBACK (_handleAck(), l.1577); on every CONNACK _onConnect() (l.1766) resends everything in outgoingStore (storeDeliver(), one at a time, each after the previous PUBACK), even to another server or a clean session: duplicates possible, nothing lost while the client reconnects`,
  bufferReconnect: `${F} _storePacket() (l.1263): while not connected a QoS 0 PUBLISH is queued in client.queue (queueQoSZero, default true, l.289) and written by the 'connect' handler's deliver() (l.334); a QoS 1/2 PUBLISH goes to outgoingStore and is resent by _onConnect(): both unbounded`,
  bufferNoQoS0: `${F} _storePacket(): with queueQoSZero false a QoS 0 PUBLISH made while not connected gets its callback's Error('No connection to broker') and is dropped`,
  bufferNone: `${F} _setupReconnect(): with reconnectPeriod 0 the client never reconnects, so nothing queued by _storePacket() is ever sent`,
  discoveryIgnore: `${IDX} connect(): the server list is only opts.servers as given; MQTT 3.1.1 advertises no servers and MQTT.js follows no MQTT 5 server reference (_handleConnack(), l.1355, reads none)`,
  refusal: `${F} _handleConnack() (l.1355): a CONNACK with a return code above 0 only emits 'error' ('Connection refused: …', l.1387); the broker then closes the stream (it must, MQTT-3.2.2-5), whose 'close' (l.372) runs _setupReconnect() (l.1112) as for any failed attempt: one reconnectPeriod later the next server of the list is dialled (${IDX} wrapper(), l.140), round the list for ever; nothing counts refusals`,
  refusalEnds: `${F} _setupReconnect(): with reconnectPeriod 0 no reconnect timer is armed, so the stream's close after a refused CONNACK (_handleConnack(), l.1387) is the end: no further attempt`,
  resubAuto: `${F} _resubscribe() (l.1734), run by the 'connect' handler once the offline queue is sent (l.340): on every CONNACK but the first, with clean true (the default), it subscribes again every topic of _resubscribeTopics (each subscribe() made with resubscribe true, the default, and reconnectPeriod > 0, l.808), whatever the broker kept`,
  resubNone: `${F} _resubscribe() (l.1734): it subscribes again only when options.clean is true or, for MQTT 5, when the CONNACK says session present 0; with clean false under MQTT 3.1.1 (protocolVersion 4) a broker that lost the session (session present 0) gets no SUBSCRIBE again`,
  closeLastError: `${F} _setupReconnect(): MQTT.js never gives up, so it has no close error: each failed attempt emits 'error' with that attempt's own error (streamErrorHandler() in _setupStream(), l.455, only for ECONNREFUSED/EADDRINUSE/ECONNRESET/ENOTFOUND; other socket errors are dropped by nop()), or 'Connection refused: …' for a CONNACK refusal (_handleConnack()): the application sees the last server's error, naming no other`
}

function term (value, c) { return { value, cite: c } }

// builtin is the contract with MQTT.js's defaults (defaultConnectOptions,
// lib/client.js l.24: keepalive 60, reconnectPeriod 1000, connectTimeout
// 30000, clean true, resubscribe true; queueQoSZero true), publishing at
// QoS 0 as publish() does by default.
function builtin () {
  return {
    first_attempt: term('after_delay', cite.firstAfterDelay),
    delay_applies: term('per_attempt', cite.perAttempt),
    delay: term('constant', cite.constant),
    jitter: term('none', cite.noJitter),
    reset: term('on_success', cite.reset),
    attempt_limit: term('none', cite.noLimit),
    failover: term('next', cite.next),
    shuffle: term('none', cite.noShuffle),
    first_connect: term('cascade', cite.cascade),
    liveness: term('ping', cite.ping),
    overall_timeout: term('none', cite.noOverall),
    lame_duck: term('none', cite.noLameDuck),
    delivery: term('at_most_once', cite.atMostOnce + ` (publish() defaults to qos 0, l.614; QoS 1: at_least_once, ${cite.atLeastOnce})`),
    buffer: term('while_reconnecting', cite.bufferReconnect),
    discovery: term('ignore', cite.discoveryIgnore),
    close_error: term('last_error', cite.closeLastError),
    refusal: term('retry', cite.refusal),
    resubscribe: term('auto', cite.resubAuto)
  }
}

module.exports = { builtin, term, cite }

'use strict'
// The connect op's options (docs/driver-protocol.md, "The connect op's
// options", plus keep_session and delivery) mapped onto mqtt.connect()'s
// options, and the effective contract that follows: the terms, what the
// scenario asked that MQTT.js cannot express (unsupported) and what the
// driver adds (driver_adds).

const { builtin, term, cite } = require('./contract')

const F = 'MQTT.js 4.3.7 lib/client.js'

// The settings FAULTLINE_MQTT_AGAINST may name (README, "Misconfigured on
// purpose").
const AGAINST = ['no_reconnect', 'clean_session', 'no_queue_qos0']

function against (env) {
  const out = []
  for (const a of String(env.FAULTLINE_MQTT_AGAINST || '').split(',')) {
    const s = a.trim()
    if (s === '') continue
    if (!AGAINST.includes(s)) throw new Error(`FAULTLINE_MQTT_AGAINST: unknown setting ${JSON.stringify(s)} (${AGAINST.join(', ')})`)
    out.push(s)
  }
  return out
}

// parseServer turns a harness URL (mqtt://127.0.0.1:PORT) into MQTT.js's
// {host, port}; a missing port is MQTT's 1883, as lib/connect/tcp.js does.
function parseServer (s) {
  let u
  try {
    u = new URL(String(s).includes('://') ? s : 'mqtt://' + s)
  } catch {
    throw new Error(`bad server URL ${JSON.stringify(s)}`)
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') throw new Error(`server ${s}: only mqtt:// (plain TCP) is supported`)
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') throw new Error(`server ${s}: no host`)
  return { host, port: u.port === '' ? 1883 : Number(u.port) }
}

function qosOf (delivery) {
  switch (delivery ?? '') {
    case '': case 'at_most_once': return 0
    case 'at_least_once': return 1
    default: return null
  }
}

// planFor maps one connect op. Returns the mqtt.connect() options, the QoS
// of subscriptions and sends, the first connect's attempt limit, and the
// effective contract (params are filled in from the client once built:
// paramsOf()).
function planFor (servers, options, { clientId, env = process.env }) {
  if (!Array.isArray(servers) || servers.length === 0) throw new Error('connect: no servers')
  const list = servers.map(parseServer)
  const o = (options && typeof options === 'object') ? options : {}
  const r = (o.reconnect && typeof o.reconnect === 'object') ? o.reconnect : null
  const st = (r && r.strategy && typeof r.strategy === 'object') ? r.strategy : null
  const fo = (o.failover && typeof o.failover === 'object') ? o.failover : null
  const multi = list.length > 1
  const c = builtin()
  const unsupported = []
  const adds = []
  const unsup = (option, reason) => unsupported.push({ option, reason })

  const opts = {
    servers: list,
    protocol: 'mqtt',
    protocolVersion: 4,
    clientId,
    clean: !o.keep_session
  }
  if (o.principal) opts.username = String(o.principal)
  if (o.credentials) opts.password = String(o.credentials)

  // Against the scenario's intent, on purpose (README, "Misconfigured on
  // purpose"): settings an application might get wrong, so one command
  // shows the harness catching them. no_reconnect is applied from here on,
  // the others below.
  const wrong = against(env)
  const noReconnect = wrong.includes('no_reconnect')

  // Reconnection: MQTT.js knows one constant period (reconnectPeriod).
  const reconnect = !(r && r.enabled === false) && !noReconnect
  if (!reconnect) {
    opts.reconnectPeriod = 0
  } else if (st && st.initial_ms > 0) {
    const initial = st.initial_ms
    opts.reconnectPeriod = Math.max(1, Math.round(initial))
    const constant = st.backoff === 'fixed' || st.multiplier === 1 || (st.max_ms > 0 && st.max_ms <= initial)
    if (!constant) {
      unsup('reconnect.strategy', `${st.backoff || 'exponential'} back-off cannot be expressed: MQTT.js sleeps one constant reconnectPeriod before every attempt (${F} _setupReconnect(): setInterval(_reconnect, reconnectPeriod)); mapped as reconnectPeriod ${opts.reconnectPeriod} ms, the strategy's first delay`)
    }
    if (st.jitter > 0) {
      unsup('reconnect.strategy.jitter', `MQTT.js adds no jitter (setInterval(…, reconnectPeriod) exactly): every delay is ${opts.reconnectPeriod} ms, the upper end of the asked band [(1−${st.jitter})·${initial}, ${initial}] ms`)
    }
  }
  if (reconnect) {
    c.delay = term('constant', cite.constant + `; reconnectPeriod ${opts.reconnectPeriod ?? 1000} ms`)
  }
  if (st && st.attempts > 0) {
    unsup('reconnect.strategy.attempts', `MQTT.js has no attempt limit: it retries every reconnectPeriod until end() (${F} _setupReconnect()); the driver does not count attempts`)
  }
  if (r && r.timeout_ms > 0 && reconnect) {
    unsup('reconnect.timeout_ms', `MQTT.js has no overall reconnection deadline (${F} _setupReconnect()); the driver does not emulate one`)
  }
  if (r && r.retention_ms > 0) {
    unsup('reconnect.retention_ms', 'MQTT 3.1.1 has no session expiry interval to ask for: a kept session (keep_session) lives on the broker until the broker discards it (mosquitto: persistent_client_expiration)')
  }
  if (r && r.buffer > 0) {
    unsup('reconnect.buffer', `MQTT.js's offline queues have no limit: QoS 0 in client.queue, QoS 1 in outgoingStore (${F} _storePacket()); nothing is refused for room`)
  }

  // Failover and cascading: the library walks opts.servers on its own.
  if (fo && fo.load_balancing) {
    unsup('failover.load_balancing', 'MQTT.js never shuffles the server list (lib/connect/index.js wrapper() takes servers in array order)')
  }
  if (fo && multi && !fo.auto && reconnect) {
    unsup('failover.auto', 'false cannot be expressed with reconnection on: every reconnect attempt of MQTT.js takes the next server of the list (lib/connect/index.js wrapper(), client._reconnectCount), so a loss moves to another server')
  }
  if (fo && multi && fo.auto && !reconnect) {
    unsup('failover.auto', 'with reconnect.enabled false MQTT.js (reconnectPeriod 0) makes no further attempt after a loss: it has no failover without reconnection')
  }
  let firstAttempts = list.length
  // cascadeOnly: reconnection off but a cascading first connect. MQTT.js
  // walks its list only through reconnect attempts, so reconnectPeriod is
  // kept during the first connect and set to 0 at the first CONNACK 0
  // (client.options, which _setupReconnect() reads at each loss).
  let cascadeOnly = false
  if (!reconnect && !noReconnect && fo && fo.cascading && multi) {
    cascadeOnly = true
    opts.reconnectPeriod = st && st.initial_ms > 0 ? Math.max(1, Math.round(st.initial_ms)) : 1000
    c.first_connect = term('cascade', cite.cascade + `; driver: reconnectPeriod ${opts.reconnectPeriod} ms during the first connect only, 0 from its CONNACK on (reconnection off)`)
    adds.push({
      what: `reconnectPeriod ${opts.reconnectPeriod} ms during the first connect (the strategy's initial delay${st && st.initial_ms > 0 ? '' : ': none given, MQTT.js\'s default'}), set to 0 in client.options at the first CONNACK 0`,
      why: `failover.cascading with reconnect.enabled false: MQTT.js walks its server list only by reconnect attempts (lib/connect/index.js wrapper()), and reconnectPeriod 0 would make the first connect a single attempt; ${F} _setupReconnect() reads options.reconnectPeriod at each loss, so none follows a loss`
    })
  } else if (!reconnect) {
    firstAttempts = 1
    c.first_connect = term('single', cite.single + (noReconnect ? '; FAULTLINE_MQTT_AGAINST=no_reconnect' : ''))
  } else if (fo && !fo.cascading) {
    firstAttempts = 1
    if (multi) {
      c.first_connect = term('single', 'driver: the first connect is given up after its first failed attempt (failover.cascading false); MQTT.js itself would go on to the next server after reconnectPeriod (lib/connect/index.js wrapper())')
    }
  }
  if (reconnect || cascadeOnly) {
    adds.push({
      what: `the first connect is given up (client.end(true), CLOSED_FAILED naming every server tried) once ${firstAttempts} attempt(s) failed without a CONNACK 0: one pass over the list${firstAttempts === 1 ? ' (its first server)' : ''}`,
      why: 'MQTT.js retries a first connect that fails exactly like a lost one, round the list every reconnectPeriod for ever (lib/connect/index.js wrapper(), _setupReconnect()); faultline\'s first connection either succeeds or closes CLOSED_FAILED and the connect op is answered then'
    })
  }
  c.close_error = term('names_tried', 'driver: the first connect\'s CLOSED_FAILED carries `tried` and the connect reply\'s error names each server tried with its failure; MQTT.js itself never closes (' + cite.closeLastError + ')')

  // Timeouts and liveness.
  if (o.connect_timeout_ms > 0) opts.connectTimeout = Math.round(o.connect_timeout_ms)
  let keepaliveS = null
  if (o.liveness_ms > 0) {
    // _checkPing() finds a silent link at the second tick after it fell
    // silent at the latest: within 2K s for keepalive K (no traffic).
    keepaliveS = Math.min(65535, Math.max(1, Math.floor(o.liveness_ms / 2000)))
    opts.keepalive = keepaliveS
    if (keepaliveS * 2000 !== o.liveness_ms) {
      unsup('liveness_ms', `${o.liveness_ms} ms cannot be expressed: keepalive is whole seconds (the CONNECT's 16-bit field; mqtt-packet writeToStream rejects a fraction) and _checkPing() finds a silent link within (K, 2K] s of keepalive K: keepalive ${keepaliveS} s bounds detection by ${2 * keepaliveS} s`)
    }
  }
  c.liveness = term('ping', cite.ping + `; keepalive ${opts.keepalive ?? 60} s: a silent link is found within (${opts.keepalive ?? 60}, ${2 * (opts.keepalive ?? 60)}] s while the client sends nothing else (each send re-arms the ping timer)`)

  // Delivery.
  let qos = qosOf(o.delivery)
  if (qos === null) {
    unsup('delivery', `${JSON.stringify(o.delivery)} is not a delivery this driver maps (at_most_once → QoS 0, at_least_once → QoS 1); QoS 0 used`)
    qos = 0
  }

  if (o.router) unsup('router', 'MQTT.js is not a router: one connection to one broker at a time')

  for (const a of wrong) {
    if (a === 'clean_session') opts.clean = true
    if (a === 'no_queue_qos0') opts.queueQoSZero = false
    adds.push({ what: `FAULTLINE_MQTT_AGAINST=${a}`, why: 'configured against the scenario\'s intent on purpose' })
  }

  // Delivery and buffer follow from QoS, reconnection and queueQoSZero.
  if (qos === 1 && reconnect) c.delivery = term('at_least_once', cite.atLeastOnce)
  else if (qos === 1) c.delivery = term('at_most_once', `${F} storeAndSend() (l.213) keeps a QoS 1 PUBLISH in outgoingStore until its PUBACK, but with reconnectPeriod 0 nothing resends it after a loss (_setupReconnect()); with clean true _cleanUp(true) even fails its callback (flush(), l.1157)`)
  else c.delivery = term('at_most_once', cite.atMostOnce)
  // Refusal and re-subscription follow from reconnection and the clean
  // flag (opts.clean as FAULTLINE_MQTT_AGAINST left it).
  if (!reconnect && !cascadeOnly) c.refusal = term('ends', cite.refusalEnds)
  else if (!reconnect) c.refusal = term('retry', cite.refusal + '; reconnectPeriod 0 from the first CONNACK 0 on: a refusal after it ends the client (' + cite.refusalEnds + ')')
  else c.refusal = term('retry', cite.refusal + `; the first connect: the driver gives it up after ${firstAttempts} failed attempt(s) (driver_adds)`)
  if (!opts.clean) c.resubscribe = term('none', cite.resubNone)
  else if (!reconnect) c.resubscribe = term('none', `${F} subscribe() (l.808): with reconnectPeriod 0 no topic is kept for _resubscribe(), and no reconnect follows a loss anyway`)
  if (!reconnect) c.buffer = term('none', cite.bufferNone)
  else if (qos === 0 && opts.queueQoSZero === false) c.buffer = term('none', cite.bufferNoQoS0)
  else c.buffer = term('while_reconnecting', cite.bufferReconnect)
  c.unsupported = unsupported
  c.driver_adds = adds
  // walks: a failed first attempt is followed by another (reconnectPeriod
  // > 0 during the first connect). opts becomes the client's options
  // object, so the first connect's period is kept apart (cascadeOnly sets
  // the option to 0 later).
  const firstPeriod = opts.reconnectPeriod ?? 1000
  const walks = firstPeriod !== 0
  return { opts, qos, reconnect, walks, cascadeOnly, firstPeriod, firstAttempts, contract: c, servers: servers.map(String) }
}

// paramsOf reads back what the built client runs with. reconnect_wait_ms and
// jitter_ms are the keys faultline's schedule checks read for a constant wait
// (harness/check/delays.go).
function paramsOf (client, plan) {
  const o = client.options
  const p = {
    reconnect_period_ms: o.reconnectPeriod,
    connect_timeout_ms: o.connectTimeout,
    keepalive_s: o.keepalive,
    reschedule_pings: o.reschedulePings,
    clean: o.clean,
    client_id: o.clientId,
    protocol_version: o.protocolVersion,
    qos: plan.qos,
    queue_qos_zero: client.queueQoSZero,
    resubscribe: o.resubscribe,
    servers: plan.opts.servers.map((s) => `${s.host}:${s.port}`),
    first_connect_attempts: plan.firstAttempts
  }
  if (plan.cascadeOnly) p.first_connect_period_ms = plan.firstPeriod
  if (plan.reconnect && o.reconnectPeriod > 0) {
    p.reconnect_wait_ms = o.reconnectPeriod
    p.jitter_ms = 0
  }
  return p
}

module.exports = { planFor, paramsOf, parseServer, against, AGAINST }

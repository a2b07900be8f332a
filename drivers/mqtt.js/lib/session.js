'use strict'
// One client's MQTT.js client and its lifecycle as reported to the harness.
//
// Evidence comes from the library's own events and its own stream builder:
// - every stream MQTT.js builds (first connect and each reconnect) goes
//   through client.streamBuilder, the server-rotation wrapper() of
//   lib/connect/index.js; the driver wraps that function after
//   mqtt.connect() returns, so each dial is reported with the server the
//   library chose (client.options.host/port, set by wrapper()). The first
//   stream is built inside the MqttClient constructor: it is reported right
//   after mqtt.connect() returns, before any I/O (the TCP connect of an IP
//   address starts on the next tick);
// - CONNACK (packetreceive) → CONNECTED_ACTIVE: MQTT.js sets
//   client.connected there (_onConnect()), while its 'connect' event waits
//   until outgoingStore has been resent one message per PUBACK;
// - 'offline' / 'close' → RECOVERING_RECONNECT, or CLOSED_FAILED
//   connection_lost with reconnectPeriod 0; 'end' → CLOSED_BY_CLIENT.

const { mqtt } = require('./mqttjs')
const { planFor, paramsOf } = require('./options')
const S = require('./states')
const { CONNACK_TEXT, reasonOf, errText, numbered, seqOf } = require('./wire')

// How long a close waits for MQTT.js's 'end' before destroying the stream
// and reporting the close itself (end() without force waits for every
// QoS 1 PUBACK, and for the broker to close the TCP connection).
const CLOSE_WAIT_MS = 2000
// How long a subscribe made while connected waits for its SUBACK.
const SUBACK_WAIT_MS = 2000

class Session {
  // emit(type, fields) writes one event of this client.
  constructor (emit, label) {
    this.emit = emit
    this.label = label
    this.state = ''
    this.server = '' // the server of the last state event (the lost one while recovering)
    this.session = ''
    this.client = null
    this.plan = null
    this.closing = false
    this.everUp = false // a CONNACK 0 came at least once
    this.attempt = null // the current stream: {url, tcp, up, err, refused, remoteEnd}
    this.tried = [] // servers dialled in the current CONNECTING
    this.failures = [] // "url: why" of each failed attempt of the first connect
    this.firstFailed = 0
    this.sent = 0 // sends MQTT.js took (the send number n)
    this.settle = null // answers the pending connect op
    this.ended = null // resolves a pending close
  }

  move (to, native, { server, session, reason, tried } = {}) {
    const from = this.state
    if (S.isClosed(from) || from === to) return false
    if (!S.legal(from, to)) {
      process.stderr.write(`mqtt.js driver: client ${this.label}: dropped ${from} -> ${to} (${native})\n`)
      return false
    }
    if (server) this.server = server
    if (session !== undefined) this.session = session
    this.state = to
    this.emit('state', { from: from || undefined, to, phase: S.PHASES[to], native, server: this.server, session: this.session, reason, tried })
    if (S.isClosed(to) && this.ended) this.ended()
    return true
  }

  // connect answers once CONNECTED_ACTIVE or CLOSED_*: {ok, error, contract}.
  connect (servers, options, { clientId, env }) {
    const plan = planFor(servers, options, { clientId, env })
    this.plan = plan
    this.urls = new Map()
    plan.opts.servers.forEach((s, i) => {
      const k = `${s.host}:${s.port}`
      if (!this.urls.has(k)) this.urls.set(k, plan.servers[i])
    })
    const done = new Promise((resolve) => {
      this.settle = (r) => { this.settle = null; resolve(r) }
    })
    const c = mqtt.connect(plan.opts) // builds the first stream (servers[0]) synchronously
    this.client = c
    const build = c.streamBuilder
    c.streamBuilder = (cl) => {
      const stream = build(cl)
      this.dialing(stream)
      return stream
    }
    this.dialing(c.stream)
    c.on('packetreceive', (p) => { if (p.cmd === 'connack') this.onConnack(p) })
    c.on('offline', () => this.onOffline())
    c.on('close', () => this.onClose())
    c.on('end', () => this.onEnd())
    c.on('error', (e) => this.onError(e))
    c.on('message', (topic, payload) => this.onMessage(topic, payload))
    return done.then((r) => ({ ...r, contract: this.contract() }))
  }

  contract () {
    const c = { ...this.plan.contract }
    const unsupported = c.unsupported
    const adds = c.driver_adds
    delete c.unsupported
    delete c.driver_adds
    c.params = paramsOf(this.client, this.plan)
    if (unsupported.length) c.unsupported = unsupported
    if (adds.length) c.driver_adds = adds
    return c
  }

  urlOf (host, port) {
    return this.urls.get(`${host}:${port}`) || `mqtt://${host}:${port}`
  }

  // dialing is called for every stream MQTT.js builds, right after.
  dialing (stream) {
    const o = this.client.options
    const url = this.urlOf(o.host, o.port)
    const a = { url, tcp: false, up: false, err: null, refused: 0, remoteEnd: false, dialFailed: false }
    this.attempt = a
    if (this.state === '') {
      this.move(S.CONNECTING, 'mqtt.connect', { server: url })
    } else if (this.state === S.ACTIVE && !this.closing) {
      this.move(S.RECOVERING, 'reconnect') // a loss no event reported
    }
    if (this.state === S.RECOVERING && url !== this.server && !this.closing) {
      // MQTT.js moves on to the next server of its list: the session on
      // the lost server is given up (a broker keeps sessions per client
      // id, each its own); the CONNECTED_ACTIVE that ends this names the
      // new one.
      this.move(S.CONNECTING, 'reconnect', { reason: 'connection_lost' })
      this.tried = []
    }
    if (this.state === S.CONNECTING) this.tried.push(url)
    this.emit('dial', { server: url })
    const failDial = (text) => {
      if (a.tcp || a.dialFailed) return
      a.dialFailed = true
      this.emit('dial', { server: url, text })
    }
    stream.once('connect', () => { a.tcp = true })
    stream.once('end', () => { a.remoteEnd = true })
    // Prepended: they run before MQTT.js's own listeners, so the dial's
    // failure is reported before what the library does about it.
    stream.prependListener('error', (e) => {
      if (!a.err) a.err = e
      failDial(errText(e))
    })
    stream.prependOnceListener('close', () => {
      failDial(this.closing
        ? 'abandoned: the client was closed (end(true)) before the TCP connection was made'
        : `no TCP connection within connectTimeout ${o.connectTimeout} ms (MQTT.js _setupStream() connackTimer destroyed the stream)`)
    })
  }

  onConnack (p) {
    const a = this.attempt
    const rc = p.returnCode
    if (rc !== 0) {
      a.refused = rc
      this.emit('error', { text: `MQTT.js: ${a.url} refused the CONNECT: CONNACK return code ${rc} (${CONNACK_TEXT[rc] || 'unknown'})` })
      return
    }
    if (this.closing || S.isClosed(this.state)) return
    a.up = true
    // Reconnection off after a cascading first connect (options.js
    // cascadeOnly): no reconnect after a loss from here on.
    if (!this.everUp && this.plan.cascadeOnly) this.client.options.reconnectPeriod = 0
    this.everUp = true
    if (this.state === S.ACTIVE) this.move(S.RECOVERING, 'connack') // keep U1: a loss nobody reported
    this.move(S.ACTIVE, 'connack', { server: a.url, session: this.client.options.clientId })
    this.tried = []
    if (this.settle) this.settle({ ok: true })
  }

  // onOffline: MQTT.js's _setupReconnect() emits 'offline' once per outage.
  // While connected still (client.connected), it came from _cleanUp(true)
  // under _checkPing(): no PINGRESP within keepalive.
  onOffline () {
    if (this.closing || this.state !== S.ACTIVE) return
    const a = this.attempt
    const why = this.client.connected
      ? `keepalive: no PINGRESP within ${this.client.options.keepalive} s (_checkPing())`
      : this.lossText(a)
    this.emit('error', { text: `MQTT.js 'offline': connection to ${a.url} lost: ${why}` })
    this.move(S.RECOVERING, 'offline')
  }

  lossText (a) {
    if (a.err) return errText(a.err)
    if (a.remoteEnd) return 'the server closed the connection'
    return 'connection closed'
  }

  // onClose: the stream of the current attempt closed.
  onClose () {
    const a = this.attempt
    if (this.closing || S.isClosed(this.state) || !a || a.closed) return
    a.closed = true
    if (a.up) {
      if (!this.plan.reconnect) {
        this.emit('error', { text: `MQTT.js 'close': connection to ${a.url} lost (${this.lossText(a)}); reconnectPeriod 0: no reconnection` })
        this.move(S.FAILED, 'close', { reason: 'connection_lost' })
        this.stop()
      } else if (this.state === S.ACTIVE) {
        this.move(S.RECOVERING, 'close')
      }
      return
    }
    let why
    if (a.refused) why = `CONNACK return code ${a.refused} (${CONNACK_TEXT[a.refused] || 'unknown'})`
    else if (a.err) why = errText(a.err)
    else if (!a.tcp) why = `no TCP connection within connectTimeout ${this.client.options.connectTimeout} ms`
    else if (a.remoteEnd) why = 'the server closed the connection before CONNACK'
    else why = `no CONNACK within connectTimeout ${this.client.options.connectTimeout} ms`
    this.emit('error', { text: `MQTT.js attempt on ${a.url} failed: ${why}` })
    if (this.state !== S.CONNECTING || this.everUp) return
    this.failures.push(`${a.url} (${why})`)
    this.firstFailed++
    if (this.plan.walks && this.firstFailed < this.plan.firstAttempts) return
    const reason = reasonOf(a.refused)
    const native = this.plan.walks ? 'driver: first connect given up' : 'close'
    this.move(S.FAILED, native, { server: a.url, reason, tried: [...this.tried] })
    this.stop()
    if (this.settle) {
      this.settle({ ok: false, error: `MQTT.js: first connect CLOSED_FAILED (${reason}) after trying ${this.tried.length} server(s): ${this.failures.join('; ')}` })
    }
  }

  onEnd () {
    if (this.closing) this.move(S.BY_CLIENT, 'end', { reason: 'closed_by_client' })
  }

  onError (e) {
    const a = this.attempt
    if (a && e === a.err) return // reported with its dial or its attempt
    if (typeof e.code === 'number' && e.code >= 1 && e.code <= 5) return // CONNACK refusal: onConnack
    this.emit('error', { text: `MQTT.js 'error': ${errText(e)}` })
  }

  onMessage (topic, payload) {
    if (S.isClosed(this.state)) return
    this.emit('message', { topic, seq: seqOf(payload) })
  }

  // stop ends the client after the session closed for good: no timer, no
  // socket left behind.
  stop () {
    try {
      this.client.end(true)
    } catch (e) {
      process.stderr.write(`mqtt.js driver: client ${this.label}: end(true): ${errText(e)}\n`)
    }
  }

  need () {
    if (!this.client) throw new Error('not connected')
    if (S.isClosed(this.state)) throw new Error(`session ${this.state}`)
    return this.client
  }

  subscribe (topic) {
    const c = this.need()
    if (typeof topic !== 'string' || topic === '') throw new Error('subscribe: no topic')
    const connected = c.connected
    return new Promise((resolve, reject) => {
      let finished = false
      let timer = null
      const finish = (err) => {
        if (finished) return
        finished = true
        if (timer) clearTimeout(timer)
        if (err) reject(err)
        else resolve()
      }
      c.subscribe(topic, { qos: this.plan.qos }, (err, granted) => {
        if (err) {
          // Lost with its connection: MQTT.js resubscribes on reconnection
          // (resubscribe, clean session): reported, not refused.
          if (finished || /Connection closed/.test(err.message)) {
            this.emit('error', { text: `MQTT.js subscribe ${topic}: ${err.message}` })
            return finish()
          }
          return finish(err)
        }
        if (Array.isArray(granted) && granted.some((g) => g.qos === 128)) {
          this.emit('error', { text: `MQTT.js subscribe ${topic}: the broker refused it (SUBACK 0x80)` })
          return finish(new Error(`subscribe ${topic}: refused by the broker (SUBACK 0x80)`))
        }
        finish()
      })
      // Not connected: queued by _storePacket() and sent on (re)connection.
      if (!connected) return finish()
      if (!finished) timer = setTimeout(() => finish(), SUBACK_WAIT_MS)
    })
  }

  // send publishes {"n": n, "payload": …} and answers once MQTT.js took it
  // (publish() returned without failing its callback at once).
  send (topic, payload) {
    const c = this.need()
    const n = this.sent + 1
    let sync = true
    let failed = null
    c.publish(topic, numbered(n, payload), { qos: this.plan.qos }, (err) => {
      if (sync) {
        if (err) failed = err
        return
      }
      if (err) this.emit('error', { text: `MQTT.js publish n=${n} on ${topic}: ${errText(err)}` })
    })
    sync = false
    if (failed) {
      this.emit('error', { text: `MQTT.js publish on ${topic}: send discarded: ${errText(failed)}` })
      throw failed
    }
    this.sent = n
  }

  // close ends the session deliberately: end() with DISCONNECT when
  // connected; forced when not, because end() without force on a client
  // that is not connected leaves the socket open and its CONNACK may still
  // emit 'connect' after 'end' (_cleanUp() l.1185, _onConnect() l.1767).
  async close () {
    if (!this.client) {
      this.move(S.BY_CLIENT, 'close', { reason: 'closed_by_client' })
      return
    }
    if (S.isClosed(this.state)) return
    this.closing = true
    const c = this.client
    let timer
    const ended = new Promise((resolve) => {
      this.ended = resolve
      timer = setTimeout(resolve, CLOSE_WAIT_MS)
    })
    c.end(!c.connected)
    await ended
    clearTimeout(timer)
    if (!S.isClosed(this.state)) {
      try { c.stream.destroy() } catch {}
      this.move(S.BY_CLIENT, `end (not emitted within ${CLOSE_WAIT_MS} ms: stream destroyed)`, { reason: 'closed_by_client' })
    }
    if (this.settle) this.settle({ ok: false, error: 'closed during connect' })
  }
}

module.exports = { Session }

'use strict'
// The driver protocol (docs/driver-protocol.md) over a pair of streams:
// newline-delimited JSON, ops in, the hello, replies and events out. One
// process hosts many clients' sessions (the hello's "sessions"): an op with
// "client": k goes to client k's session, whose events carry it; an op
// without one goes to a default session whose events carry none.

const readline = require('node:readline')

const { VERSION } = require('./mqttjs')
const { builtin } = require('./contract')
const { Session } = require('./session')
const S = require('./states')

const SDK = 'mqtt.js'
// More than any scenario's clients: a run needs one Node process.
const SESSIONS = 4096
// The bound on closing every session at exit (each close is bounded by
// 2 s, and they close together); the harness allows 5 s.
const EXIT_WAIT_MS = 3000
// Where a send without a topic is published (the brief's default topic).
const DEFAULT_TOPIC = 'faultline/send'
const DEFAULT = 'default'

// failover: each reconnect attempt takes the next server of the list;
// cascading: a first connect that fails goes on round the list. MQTT.js
// never shuffles (no load_balancing), has no server-driven move (no
// migration) and follows no advertised servers (no discovery).
const FEATURES = ['reconnect', 'failover', 'cascading']

function hello () {
  return { sdk: SDK, version: VERSION, protocol: 'mqtt', features: [...FEATURES], sessions: SESSIONS, contract: builtin() }
}

// clientIdOf is the brief's client id, fl-<FAULTLINE_DRIVER>-<client index>:
// stable for the client's whole life, so a kept session can be resumed.
function clientIdOf (op, env) {
  const drv = Number.isSafeInteger(op.driver) && op.driver > 0 ? op.driver : (Number(env.FAULTLINE_DRIVER) || 0)
  // A one-session process (ops without client) hosts one client: index 0.
  const idx = op.client !== undefined ? op.client : 0
  return `fl-${drv}-${idx}`
}

// runDriver speaks the protocol on input/output until an exit op or the end
// of input, then closes every session (bounded) and calls exit(0). ready,
// when given, is awaited before the hello (the warm-up).
async function runDriver ({ input, output, env = process.env, exit, ready }) {
  const sessions = new Map() // client index (or DEFAULT) → Session
  let exiting = false
  let shut = null

  const write = (obj) => {
    try {
      output.write(JSON.stringify(obj) + '\n')
    } catch {
      // the harness is gone: its end of stdin will end us too
    }
  }
  const emitter = (client) => (type, fields = {}) => {
    const e = { type }
    for (const [k, v] of Object.entries(fields)) {
      // Leave out empty fields, as the Go side's omitempty does.
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue
      e[k] = v
    }
    if (client !== undefined) e.client = client
    write(e)
  }

  const shutdown = () => {
    if (shut) return shut
    exiting = true
    const open = [...sessions.values()].filter((s) => !S.isClosed(s.state))
    let timer
    shut = Promise.race([
      Promise.allSettled(open.map((s) => s.close())),
      new Promise((resolve) => { timer = setTimeout(resolve, EXIT_WAIT_MS) })
    ]).then(() => {
      clearTimeout(timer)
      exit(0)
    })
    return shut
  }

  const keyOf = (op) => {
    if (op.client === undefined) return DEFAULT
    if (!Number.isSafeInteger(op.client) || op.client < 0) throw new Error(`bad client ${JSON.stringify(op.client)}: want an index >= 0`)
    return op.client
  }

  const need = (op) => {
    const s = sessions.get(keyOf(op))
    if (!s) throw new Error('not connected')
    return s
  }

  const connect = async (op) => {
    const key = keyOf(op)
    const old = sessions.get(key)
    if (old && !S.isClosed(old.state)) throw new Error('already connected')
    if (!old && sessions.size >= SESSIONS + 1) throw new Error(`this process hosts ${SESSIONS} sessions already`)
    const s = new Session(emitter(op.client), key === DEFAULT ? 'default' : String(key))
    if (old) s.sent = old.sent // the send numbering is the client's, over its life
    // Registered before the connect completes, so that an exit meanwhile
    // closes it; a connect refused before any dial (bad options) leaves the
    // earlier session in its place.
    sessions.set(key, s)
    try {
      return await s.connect(op.servers, op.options, { clientId: clientIdOf(op, env), env })
    } catch (e) {
      if (old) sessions.set(key, old)
      else sessions.delete(key)
      throw e
    }
  }

  const topicOf = (op) => {
    if (typeof op.topic === 'string' && op.topic !== '') return op.topic
    const p = op.payload
    if (p && typeof p === 'object' && typeof p.topic === 'string' && p.topic !== '') return p.topic
    return DEFAULT_TOPIC
  }

  const handle = async (op) => {
    const id = op.id
    if (op.op === 'probe') return write({ re: id, ok: true })
    if (op.op === 'exit') {
      write({ re: id, ok: true })
      return shutdown()
    }
    if (exiting) return write({ re: id, ok: false, error: 'driver is exiting' })
    try {
      let extra = {}
      switch (op.op) {
        case 'connect': {
          const r = await connect(op)
          if (!r.ok) return write({ re: id, ok: false, error: r.error, contract: r.contract })
          extra = { contract: r.contract }
          break
        }
        case 'subscribe':
          await need(op).subscribe(op.topic)
          break
        case 'send':
          need(op).send(topicOf(op), op.payload)
          break
        case 'close':
          await need(op).close()
          break
        case 'request': case 'cancel': case 'edge': case 'discovery.add': case 'discovery.remove':
          throw new Error(`${op.op}: not supported by the MQTT.js driver (no migration, no routing)`)
        default:
          throw new Error(`unknown op ${JSON.stringify(op.op)}`)
      }
      write({ re: id, ok: true, ...extra })
    } catch (err) {
      write({ re: id, ok: false, error: String((err && err.message) || err) })
    }
  }

  if (ready) await ready
  write(hello())

  // A line that cannot be answered (no id to reply to) is reported as an
  // error event; once ops name their client (a multi-session harness), an
  // event without a client would be a malformed line, so then to stderr.
  let multi = false
  const unanswerable = (text, client) => {
    if (client !== undefined) return emitter(client)('error', { text })
    if (multi) return process.stderr.write(`mqtt.js driver: ${text}\n`)
    emitter()('error', { text })
  }
  const rl = readline.createInterface({ input, crlfDelay: Infinity })
  rl.on('line', (line) => {
    if (line.trim() === '') return
    let op
    try {
      op = JSON.parse(line)
    } catch (e) {
      return unanswerable(`driver: bad op line: ${e.message}`)
    }
    if (op === null || typeof op !== 'object' || Array.isArray(op)) {
      return unanswerable('driver: bad op line: not a JSON object')
    }
    if (op.client !== undefined) multi = true
    if (!Number.isSafeInteger(op.id)) {
      // Nothing to reply to: a reply needs the op's id.
      const c = Number.isSafeInteger(op.client) && sessions.has(op.client) ? op.client : undefined
      return unanswerable(`driver: op without an integer id: ${line.slice(0, 200)}`, c)
    }
    handle(op)
  })
  // The end of input: the harness is done or gone; close and exit.
  rl.on('close', () => { shutdown() })
  return { shutdown }
}

module.exports = { runDriver, hello, clientIdOf, SDK, FEATURES, SESSIONS, DEFAULT_TOPIC }

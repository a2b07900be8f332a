'use strict'
// The driver as the harness runs it, for tests: `node driver.js` as a
// process, its lines read as they come; and the lifecycle rule U1 checked
// over what it said. Outside test/ because the runner would run it as a test.

const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')

const DRIVER = path.join(__dirname, '..', 'driver.js')
const { PHASES, isClosed, legal } = require('../lib/states')

// spawnDriver starts the driver (stops gets its kill) and reads its lines:
// the hello, replies by id, events in order. Every line must be JSON.
function spawnDriver (stops, env = {}) {
  const env2 = { ...process.env, FAULTLINE_DRIVER: '1', FAULTLINE_SEED: '1', ...env }
  delete env2.NODE_TEST_CONTEXT
  delete env2.NODE_PATH // the driver must find Debian's modules on its own
  const p = spawn(process.execPath, [DRIVER], { stdio: ['pipe', 'pipe', 'pipe'], env: env2 })
  // at: each line's arrival (performance.now()), by the parsed line.
  const d = { p, lines: [], at: new WeakMap(), events: [], replies: new Map(), waiters: [], stderr: '', nextID: 1, bad: [] }
  const notify = () => {
    for (const w of [...d.waiters]) {
      if (w.cond()) {
        d.waiters.splice(d.waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  readline.createInterface({ input: p.stdout }).on('line', (l) => {
    let m
    try {
      m = JSON.parse(l)
    } catch {
      d.bad.push(l)
      return
    }
    d.lines.push(m)
    d.at.set(m, performance.now())
    if ('re' in m) {
      if (d.replies.has(m.re)) d.bad.push(`second reply: ${l}`)
      d.replies.set(m.re, m)
    } else if ('type' in m) d.events.push(m)
    notify()
  })
  p.stderr.on('data', (b) => { d.stderr += b })
  d.exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })))
  // until waits for cond, checked at each line and every 20 ms (for
  // conditions on something else, a broker's log say).
  d.until = (cond, ms = 5000, what = 'condition') => {
    if (cond()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const poll = setInterval(notify, 20)
      const t = setTimeout(() => {
        clearInterval(poll)
        d.waiters.splice(d.waiters.indexOf(w), 1)
        reject(new Error(`${what} not within ${ms}ms; lines: ${JSON.stringify(d.lines).slice(-6000)}; stderr: ${d.stderr}`))
      }, ms)
      const w = { cond, resolve: () => { clearTimeout(t); clearInterval(poll); resolve() } }
      d.waiters.push(w)
    })
  }
  // logShows waits until the broker's log (read through a pipe, so it may
  // trail the driver's reply) matches re.
  d.logShows = (b, re, from = 0, ms = 3000) => d.until(() => re.test(b.log.slice(from)), ms, `broker log ${re}`)
  d.send = (op) => {
    const id = op.id ?? d.nextID++
    p.stdin.write(JSON.stringify({ id, ...op }) + '\n')
    return id
  }
  d.do = async (op, ms = 5000) => {
    const id = d.send(op)
    await d.until(() => d.replies.has(id), ms, `reply to ${op.op}`)
    return d.replies.get(id)
  }
  d.states = (client) => d.events.filter((e) => e.type === 'state' && e.client === client)
  d.of = (type, client) => d.events.filter((e) => e.type === type && e.client === client)
  d.kill = () => p.kill('SIGKILL')
  stops.push(async () => {
    if (p.exitCode === null && p.signalCode === null) d.kill()
  })
  return d
}

// assertLifecycle holds every client's state events to U1: the first goes
// into CONNECTING without from, each later from is the previous to, only
// legal moves, phase matches to, nothing after a close but a new session
// (a later connect of the same client, starting again from CONNECTING).
function assertLifecycle (events) {
  const byClient = new Map()
  for (const e of events) {
    if (e.type !== 'state') continue
    const k = e.client ?? 'default'
    const prev = byClient.get(k)
    const where = `client ${k}: ${JSON.stringify(e)}`
    if (prev === undefined || (isClosed(prev) && e.from === undefined)) {
      // A client's first session, or a new one a later connect opened.
      assert.equal(e.from, undefined, `first state event has a from: ${where}`)
      assert.equal(e.to, 'CONNECTING', `first state event not into CONNECTING: ${where}`)
    } else {
      assert.ok(!isClosed(prev), `state event after ${prev}: ${where}`)
      assert.equal(e.from, prev, `from is not the previous to: ${where}`)
      assert.ok(legal(prev, e.to), `illegal transition: ${where}`)
    }
    assert.equal(e.phase, PHASES[e.to], `phase does not match to: ${where}`)
    if (isClosed(e.to)) assert.ok(e.reason, `close without a reason: ${where}`)
    byClient.set(k, e.to)
  }
  return byClient
}

module.exports = { spawnDriver, assertLifecycle }

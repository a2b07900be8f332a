'use strict'
// The driver without a broker: its hello, its answers to lines it cannot
// serve, and a first connect over closed ports.

const assert = require('node:assert/strict')
const { after, test } = require('node:test')

const { spawnDriver, assertLifecycle } = require('../testing/proc')
const { freePort } = require('../testing/broker')

const stops = []
after(() => Promise.all(stops.map((f) => f())))

// Every term of docs/driver-protocol.md's "The SDK contract", and its values.
const TERMS = {
  first_attempt: ['immediate', 'after_delay'],
  delay_applies: ['per_attempt', 'per_pass'],
  delay: ['constant', 'exponential', 'custom'],
  jitter: ['none', 'added', 'symmetric', 'below'],
  reset: ['on_success', 'never'],
  attempt_limit: ['none', 'per_client', 'per_server'],
  failover: ['next', 'top'],
  shuffle: ['none', 'at_connect', 'per_walk'],
  first_connect: ['cascade', 'single'],
  liveness: ['ping', 'none'],
  overall_timeout: ['native', 'driver', 'none'],
  lame_duck: ['reconnect', 'notify', 'none'],
  delivery: ['at_most_once', 'at_least_once', 'exactly_once'],
  buffer: ['while_reconnecting', 'none'],
  close_error: ['names_tried', 'last_error', 'generic'],
  discovery: ['follow', 'ignore'],
  refusal: ['retry', 'next', 'ends'],
  resubscribe: ['auto', 'driver', 'none']
}

function assertTerms (c) {
  for (const [k, values] of Object.entries(TERMS)) {
    assert.ok(c[k], `term ${k} missing`)
    assert.ok(values.includes(c[k].value), `term ${k}: value ${c[k].value}`)
    assert.match(c[k].cite, /\S{10}/, `term ${k}: no citation`)
  }
}

test('the hello: sdk, version, protocol mqtt, features, sessions, every contract term cited', async () => {
  const d = spawnDriver(stops)
  await d.until(() => d.lines.length >= 1, 10_000, 'hello')
  const h = d.lines[0]
  assert.deepEqual(Object.keys(h).sort(), ['contract', 'features', 'protocol', 'sdk', 'sessions', 'version'])
  assert.equal(h.sdk, 'mqtt.js')
  assert.equal(h.version, '4.3.7')
  assert.equal(h.protocol, 'mqtt')
  assert.deepEqual(h.features, ['reconnect', 'failover', 'cascading'])
  assert.equal(h.sessions, 4096)
  assertTerms(h.contract)
  assert.equal(h.contract.first_attempt.value, 'after_delay')
  assert.equal(h.contract.delay.value, 'constant')
  assert.equal(h.contract.failover.value, 'next')
  assert.match(h.contract.first_attempt.cite, /lib\/client\.js _setupReconnect\(\)/)
  assert.match(h.contract.failover.cite, /lib\/connect\/index\.js connect\(\) wrapper\(\)/)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('lines it cannot serve are answered (or reported) and the driver goes on', async () => {
  const d = spawnDriver(stops)
  await d.until(() => d.lines.length >= 1, 10_000, 'hello')
  d.p.stdin.write('this is not json\n\n[1,2]\n{"op":"connect"}\n')
  await d.until(() => d.events.filter((e) => e.type === 'error').length === 3, 2000, 'three error events')
  assert.match(d.events[0].text, /bad op line/)
  assert.match(d.events[1].text, /not a JSON object/)
  assert.match(d.events[2].text, /without an integer id/)
  const unknown = await d.do({ op: 'frobnicate' })
  assert.equal(unknown.ok, false)
  assert.match(unknown.error, /unknown op "frobnicate"/)
  for (const op of ['request', 'cancel', 'edge', 'discovery.add']) {
    const r = await d.do({ op })
    assert.equal(r.ok, false, op)
    assert.match(r.error, /not supported/)
  }
  assert.deepEqual(await d.do({ op: 'subscribe', topic: 'x' }), { re: d.nextID - 1, ok: false, error: 'not connected' })
  assert.equal((await d.do({ op: 'send', payload: 1 })).ok, false)
  assert.equal((await d.do({ op: 'close' })).ok, false)
  assert.equal((await d.do({ op: 'subscribe', topic: 'x', client: -1 })).ok, false)
  const bad = await d.do({ op: 'connect', servers: ['http://127.0.0.1:1'] })
  assert.equal(bad.ok, false)
  assert.match(bad.error, /only mqtt:\/\//)
  assert.equal((await d.do({ op: 'connect', servers: [] })).ok, false)
  const t0 = Date.now()
  assert.deepEqual(await d.do({ op: 'probe' }), { re: d.nextID - 1, ok: true })
  assert.ok(Date.now() - t0 < 1000)
  assert.deepEqual(d.bad, [])
  assert.equal(d.events.filter((e) => e.type === 'state').length, 0)
  assert.equal((await d.do({ op: 'exit' })).ok, true)
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('a first connect over two closed ports: each dialled in order, CLOSED_FAILED naming both', async () => {
  const p1 = await freePort()
  const p2 = await freePort()
  const u1 = `mqtt://127.0.0.1:${p1}`
  const u2 = `mqtt://127.0.0.1:${p2}`
  const d = spawnDriver(stops)
  const r = await d.do({
    op: 'connect',
    servers: [u1, u2],
    options: { reconnect: { enabled: true, strategy: { backoff: 'fixed', initial_ms: 50 } }, failover: { auto: true, cascading: true }, connect_timeout_ms: 500 }
  })
  assert.equal(r.ok, false)
  assert.ok(r.error.includes(u1) && r.error.includes(u2), r.error)
  assertTerms(r.contract)
  assert.equal(r.contract.close_error.value, 'names_tried')
  assert.equal(r.contract.params.reconnect_wait_ms, 50)
  const dials = d.events.filter((e) => e.type === 'dial')
  assert.deepEqual(dials.map((e) => [e.server, !!e.text]), [[u1, false], [u1, true], [u2, false], [u2, true]])
  assert.match(dials[1].text, /ECONNREFUSED/)
  const states = d.events.filter((e) => e.type === 'state')
  assert.deepEqual(states.map((e) => e.to), ['CONNECTING', 'CLOSED_FAILED'])
  assert.equal(states[1].reason, 'connection_error')
  assert.deepEqual(states[1].tried, [u1, u2])
  assertLifecycle(d.events)
  d.p.stdin.end()
  const t0 = Date.now()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
  assert.ok(Date.now() - t0 < 5000)
})

test('cascading false: the first connect gives up after the first server', async () => {
  const p1 = await freePort()
  const p2 = await freePort()
  const d = spawnDriver(stops)
  const r = await d.do({
    op: 'connect',
    servers: [`mqtt://127.0.0.1:${p1}`, `mqtt://127.0.0.1:${p2}`],
    options: { reconnect: { enabled: true, strategy: { backoff: 'fixed', initial_ms: 50 } }, failover: { auto: true, cascading: false }, connect_timeout_ms: 500 }
  })
  assert.equal(r.ok, false)
  assert.equal(r.contract.first_connect.value, 'single')
  assert.deepEqual(d.events.filter((e) => e.type === 'dial' && !e.text).map((e) => e.server), [`mqtt://127.0.0.1:${p1}`])
  assert.deepEqual(d.events.at(-1).tried, [`mqtt://127.0.0.1:${p1}`])
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

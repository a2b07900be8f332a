'use strict'
// What the effective contract claims, held against a real mosquitto:
// at-least-once resend, keepalive, a kept session, reconnection off, and
// FAULTLINE_MQTT_AGAINST.

const assert = require('node:assert/strict')
const { after, test } = require('node:test')

const { spawnDriver, assertLifecycle } = require('../testing/proc')
const { startBroker } = require('../testing/broker')
const { publisher } = require('../testing/publisher')

const stops = []
after(() => Promise.all(stops.splice(0).reverse().map((f) => f())))

const options = (extra = {}) => ({
  reconnect: { enabled: true, strategy: { backoff: 'fixed', initial_ms: 100 } },
  failover: { auto: true, cascading: true },
  liveness_ms: 2000,
  connect_timeout_ms: 1000,
  ...extra
})

const nth = (d, to, n) => d.events.filter((e) => e.to === to).length >= n

test('at_least_once: a QoS 1 send unacknowledged at the loss is resent after the reconnect (without DUP)', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  assert.equal((await d.do({ op: 'connect', servers: [b.url], options: options({ delivery: 'at_least_once' }) })).ok, true)
  b.signal('SIGSTOP') // the PUBLISH reaches the broker's socket, no PUBACK comes back
  assert.equal((await d.do({ op: 'send', payload: 'in flight' })).ok, true)
  await b.kill()
  await d.until(() => nth(d, 'RECOVERING_RECONNECT', 1), 3000, 'RECOVERING_RECONNECT')
  await b.start()
  await d.until(() => nth(d, 'CONNECTED_ACTIVE', 2), 3000, 'CONNECTED_ACTIVE again')
  await d.until(() => b.received('fl-1-0').length === 1, 3000, 'the resend')
  // MQTT 3.1.1 §3.3.1.1 asks for DUP 1 on a re-delivery; MQTT.js 4.3.7
  // resends the stored packet as it was (dup false): _onConnect() storeDeliver().
  assert.deepEqual(b.received('fl-1-0').map((m) => [m[1], m[2]]), [['d0', 'q1']])
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('liveness: keepalive 1 s finds a silent broker within 2 s', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  const r = await d.do({ op: 'connect', servers: [b.url], options: options() })
  assert.equal(r.contract.params.keepalive_s, 1)
  assert.ok(!r.contract.unsupported?.some((u) => u.option === 'liveness_ms'))
  await new Promise((resolve) => setTimeout(resolve, 300))
  b.signal('SIGSTOP')
  const t0 = performance.now()
  await d.until(() => nth(d, 'RECOVERING_RECONNECT', 1), 3500, 'the loss')
  const dt = performance.now() - t0
  assert.ok(dt < 2300, `loss found after ${dt.toFixed(0)} ms`)
  assert.ok(d.events.some((e) => e.type === 'error' && /keepalive: no PINGRESP/.test(e.text)))
  assert.equal(d.events.find((e) => e.to === 'RECOVERING_RECONNECT').native, 'offline')
  await b.kill()
  await b.start()
  await d.until(() => nth(d, 'CONNECTED_ACTIVE', 2), 3000, 'CONNECTED_ACTIVE again')
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('keep_session: clean 0, and what was published while away arrives after the next connect', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  const r = await d.do({ op: 'connect', servers: [b.url], options: options({ keep_session: true, delivery: 'at_least_once' }) })
  assert.equal(r.contract.params.clean, false)
  await d.logShows(b, /as fl-1-0 \(p2, c0, k1\)/)
  assert.equal((await d.do({ op: 'subscribe', topic: 'prices' })).ok, true)
  assert.equal((await d.do({ op: 'close' })).ok, true)
  const pub = publisher(stops, b.url)
  await pub.publish('prices', 1)
  assert.equal((await d.do({ op: 'connect', servers: [b.url], options: options({ keep_session: true, delivery: 'at_least_once' }) })).ok, true)
  await d.logShows(b, /Sending CONNACK to fl-1-0 \(1, 0\)/) // session present
  await d.until(() => d.of('message').length === 1, 3000, 'the message kept for the session')
  assert.deepEqual(d.of('message')[0], { type: 'message', topic: 'prices', seq: 1 })
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('keep_session when the broker lost the session (restarted without persistence): MQTT.js does not subscribe again', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  assert.equal((await d.do({ op: 'connect', servers: [b.url], options: options({ keep_session: true, delivery: 'at_least_once' }) })).ok, true)
  assert.equal((await d.do({ op: 'subscribe', topic: 'prices' })).ok, true)
  await b.kill()
  await d.until(() => nth(d, 'RECOVERING_RECONNECT', 1), 3000, 'RECOVERING_RECONNECT')
  const from = b.log.length
  await b.start()
  await d.until(() => nth(d, 'CONNECTED_ACTIVE', 2), 3000, 'CONNECTED_ACTIVE again')
  await d.logShows(b, /Sending CONNACK to fl-1-0 \(0, 0\)/, from) // session present 0
  const pub = publisher(stops, b.url)
  await pub.publish('prices', 1)
  // A marker published after it: mosquitto logs a delivery of prices (had
  // the client subscribed again) before it logs the marker's receipt.
  await pub.publish('marker', 2)
  await d.logShows(b, /Received PUBLISH from \S+ \(d0, q1, r0, m\d+, 'marker'/, from)
  // _resubscribe() tests sessionPresent only for MQTT 5: with clean false
  // (3.1.1) the subscription is neither kept by the broker nor made again.
  assert.doesNotMatch(b.log.slice(from), /Received SUBSCRIBE/)
  assert.doesNotMatch(b.log.slice(from), /Sending PUBLISH to fl-1-0/)
  assert.equal(d.of('message').length, 0)
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('reconnect.enabled false: a loss closes CLOSED_FAILED connection_lost, no further dial', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  const r = await d.do({ op: 'connect', servers: [b.url], options: options({ reconnect: { enabled: false } }) })
  assert.equal(r.contract.params.reconnect_period_ms, 0)
  assert.equal(r.contract.params.reconnect_wait_ms, undefined)
  assert.equal(r.contract.buffer.value, 'none')
  assert.equal(r.contract.first_connect.value, 'single')
  await b.kill()
  await d.until(() => nth(d, 'CLOSED_FAILED', 1), 3000, 'CLOSED_FAILED')
  const last = d.events.filter((e) => e.type === 'state').at(-1)
  assert.deepEqual([last.from, last.reason, last.native], ['CONNECTED_ACTIVE', 'connection_lost', 'close'])
  await b.start()
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(d.events.filter((e) => e.type === 'dial').length, 1)
  assert.equal((await d.do({ op: 'send', payload: 1 })).ok, false)
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('FAULTLINE_MQTT_AGAINST=no_reconnect,clean_session: against the scenario, and said so', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops, { FAULTLINE_MQTT_AGAINST: 'no_reconnect, clean_session' })
  const r = await d.do({ op: 'connect', servers: [b.url], options: options({ keep_session: true }) })
  assert.equal(r.ok, true)
  assert.deepEqual(r.contract.driver_adds.filter((a) => /AGAINST/.test(a.what)).map((a) => a.what),
    ['FAULTLINE_MQTT_AGAINST=no_reconnect', 'FAULTLINE_MQTT_AGAINST=clean_session'])
  assert.equal(r.contract.params.reconnect_period_ms, 0)
  assert.equal(r.contract.params.clean, true)
  await d.logShows(b, /as fl-1-0 \(p2, c1, k1\)/)
  await b.kill()
  await d.until(() => nth(d, 'CLOSED_FAILED', 1), 3000, 'CLOSED_FAILED')
  assert.equal(d.events.filter((e) => e.type === 'state').at(-1).reason, 'connection_lost')
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('FAULTLINE_MQTT_AGAINST with an unknown setting: the connect is refused, naming the known ones', async () => {
  const d = spawnDriver(stops, { FAULTLINE_MQTT_AGAINST: 'teleport' })
  const r = await d.do({ op: 'connect', servers: ['mqtt://127.0.0.1:1'], options: options() })
  assert.equal(r.ok, false)
  assert.match(r.error, /unknown setting "teleport" \(no_reconnect, clean_session, no_queue_qos0\)/)
  assert.equal(d.events.length, 0)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

'use strict'
// The driver against a real mosquitto: a whole session, a broker killed
// and restarted on its port, and two brokers with the first one down.

const assert = require('node:assert/strict')
const { after, test } = require('node:test')

const { spawnDriver, assertLifecycle } = require('../testing/proc')
const { startBroker, freePort } = require('../testing/broker')
const { publisher } = require('../testing/publisher')

const stops = []
after(() => Promise.all(stops.splice(0).reverse().map((f) => f())))

const options = (extra = {}) => ({
  reconnect: { enabled: true, timeout_ms: 5000, retention_ms: 5000, strategy: { backoff: 'fixed', initial_ms: 100 } },
  failover: { auto: true, load_balancing: false, cascading: true },
  liveness_ms: 2000,
  connect_timeout_ms: 1000,
  ...extra
})

test('connect, subscribe, send, messages, close: the whole transcript', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  const r = await d.do({ op: 'connect', servers: [b.url], options: options({ delivery: 'at_least_once' }) })
  assert.equal(r.ok, true, JSON.stringify(r))
  assert.deepEqual(d.events.map((e) => [e.type, e.to ?? '', e.server]), [
    ['state', 'CONNECTING', b.url], ['dial', '', b.url], ['state', 'CONNECTED_ACTIVE', b.url]])
  const up = d.events[2]
  assert.deepEqual(up, { type: 'state', from: 'CONNECTING', to: 'CONNECTED_ACTIVE', phase: 'connected', native: 'connack', server: b.url, session: 'fl-1-0' })
  await d.logShows(b, /New client connected from 127\.0\.0\.1:\d+ as fl-1-0 \(p2, c1, k1\)/)
  const c = r.contract
  assert.equal(c.delivery.value, 'at_least_once')
  assert.equal(c.buffer.value, 'while_reconnecting')
  assert.deepEqual({ ...c.params, servers: undefined }, {
    reconnect_period_ms: 100, reconnect_wait_ms: 100, jitter_ms: 0, connect_timeout_ms: 1000, keepalive_s: 1, reschedule_pings: true,
    clean: true, client_id: 'fl-1-0', protocol_version: 4, qos: 1, queue_qos_zero: true, resubscribe: true, first_connect_attempts: 1, servers: undefined
  })
  assert.deepEqual(c.unsupported.map((u) => u.option), ['reconnect.timeout_ms', 'reconnect.retention_ms'])

  assert.equal((await d.do({ op: 'subscribe', topic: 'faultline/send' })).ok, true)
  assert.equal((await d.do({ op: 'subscribe', topic: 'prices' })).ok, true)
  for (const payload of [{ a: 1 }, 'm2', undefined]) assert.equal((await d.do({ op: 'send', payload })).ok, true)
  assert.equal((await d.do({ op: 'send', topic: 'other', payload: 'm4' })).ok, true)
  const pub = publisher(stops, b.url)
  await pub.publish('prices', 1)
  await pub.publish('prices', 2)
  await d.until(() => d.of('message').length === 5, 3000, 'five messages')
  assert.deepEqual(d.of('message').map((e) => [e.topic, e.seq]).sort(), [
    ['faultline/send', 1], ['faultline/send', 2], ['faultline/send', 3], ['prices', 1], ['prices', 2]])
  assert.deepEqual(b.received('fl-1-0').map((m) => [m[1], m[2], m[3]]), [
    ['d0', 'q1', 'faultline/send'], ['d0', 'q1', 'faultline/send'], ['d0', 'q1', 'faultline/send'], ['d0', 'q1', 'other']])
  await d.logShows(b, /Received SUBSCRIBE from fl-1-0\n\d+: \tfaultline\/send \(QoS 1\)/)

  assert.equal((await d.do({ op: 'close' })).ok, true)
  const last = d.events.filter((e) => e.type === 'state').at(-1)
  assert.deepEqual([last.from, last.to, last.reason, last.native], ['CONNECTED_ACTIVE', 'CLOSED_BY_CLIENT', 'closed_by_client', 'end'])
  await d.logShows(b, /Received DISCONNECT from fl-1-0/)
  assert.equal((await d.do({ op: 'send', payload: 'late' })).ok, false)
  assertLifecycle(d.events)
  assert.deepEqual(d.bad, [])
  assert.equal((await d.do({ op: 'exit' })).ok, true)
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('the broker killed and restarted on its port: RECOVERING_RECONNECT, attempts every reconnectPeriod, CONNECTED_ACTIVE again', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  assert.equal((await d.do({ op: 'connect', servers: [b.url], options: options({ delivery: 'at_least_once' }) })).ok, true)
  assert.equal((await d.do({ op: 'subscribe', topic: 'prices' })).ok, true)
  await b.kill()
  await d.until(() => d.events.some((e) => e.to === 'RECOVERING_RECONNECT'), 3000, 'RECOVERING_RECONNECT')
  const lost = d.events.find((e) => e.to === 'RECOVERING_RECONNECT')
  assert.deepEqual([lost.from, lost.native, lost.server, lost.session], ['CONNECTED_ACTIVE', 'offline', b.url, 'fl-1-0'])
  // A send while recovering is taken (outgoingStore) and sent after the reconnect.
  assert.equal((await d.do({ op: 'send', payload: 'during' })).ok, true)
  await d.until(() => d.events.filter((e) => e.type === 'dial' && e.text).length >= 3, 3000, 'three failed dials')
  const fails = d.events.filter((e) => e.type === 'dial' && e.text)
  assert.ok(fails.every((e) => e.server === b.url && /ECONNREFUSED/.test(e.text)), JSON.stringify(fails))
  // Each attempt one reconnectPeriod (100 ms) after the previous one failed,
  // the first one after the loss.
  const starts = d.events.filter((e) => e.type === 'dial' && !e.text).slice(1, 4).map((e) => d.at.get(e))
  const ends = [d.at.get(lost), ...fails.slice(0, 2).map((e) => d.at.get(e))]
  starts.forEach((t, i) => {
    const gap = t - ends[i]
    assert.ok(gap > 85 && gap < 300, `attempt ${i} came ${gap.toFixed(1)} ms after the previous end, not ~100`)
  })
  await b.start()
  await d.until(() => d.events.filter((e) => e.to === 'CONNECTED_ACTIVE').length === 2, 3000, 'CONNECTED_ACTIVE again')
  const back = d.events.filter((e) => e.to === 'CONNECTED_ACTIVE')[1]
  assert.deepEqual([back.from, back.server, back.session], ['RECOVERING_RECONNECT', b.url, 'fl-1-0'])
  // The send taken while recovering reached the new broker; the clean
  // session's subscription was made again (resubscribe).
  await d.until(() => b.received('fl-1-0').length === 1, 3000, 'the buffered send')
  const pub = publisher(stops, b.url)
  await d.until(() => /Received SUBSCRIBE from fl-1-0/.test(b.log), 3000, 'resubscribe')
  await pub.publish('prices', 1)
  await d.until(() => d.of('message').length === 1, 3000, 'a message after the reconnect')
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
  assert.equal(d.events.filter((e) => e.type === 'state').at(-1).to, 'CLOSED_BY_CLIENT')
})

test('two brokers, the first down: the first connect tries it, then the second; a loss moves on round the list', async () => {
  const down = `mqtt://127.0.0.1:${await freePort()}`
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  const r = await d.do({ op: 'connect', servers: [down, b.url], options: options() })
  assert.equal(r.ok, true, JSON.stringify(r))
  assert.equal(r.contract.first_connect.value, 'cascade')
  assert.deepEqual(d.events.filter((e) => e.type === 'dial').map((e) => [e.server, !!e.text]), [[down, false], [down, true], [b.url, false]])
  assert.equal(d.events.filter((e) => e.type === 'state').at(-1).server, b.url)
  // Lost on the second server: the next attempt takes the first (the
  // list wraps round), which gives the session up: CONNECTING.
  await b.kill()
  await d.until(() => d.events.filter((e) => e.to === 'CONNECTING').length === 2, 3000, 'failover CONNECTING')
  const fo = d.events.filter((e) => e.to === 'CONNECTING')[1]
  assert.deepEqual([fo.from, fo.server, fo.session, fo.reason], ['RECOVERING_RECONNECT', b.url, 'fl-1-0', 'connection_lost'])
  await b.start()
  await d.until(() => d.events.filter((e) => e.to === 'CONNECTED_ACTIVE').length === 2, 3000, 'CONNECTED_ACTIVE on the second again')
  const after = d.events.slice(d.events.indexOf(fo))
  const tried = after.filter((e) => e.type === 'dial' && !e.text).map((e) => e.server)
  assert.equal(tried[0], down)
  assert.equal(tried.at(-1), b.url)
  for (let i = 1; i < tried.length; i++) assert.notEqual(tried[i], tried[i - 1], `the list is walked in turn: ${tried}`)
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

test('reconnect off, cascading on: the first connect walks the list, a later loss closes', async () => {
  const down = `mqtt://127.0.0.1:${await freePort()}`
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  const r = await d.do({ op: 'connect', servers: [down, b.url], options: options({ reconnect: { enabled: false, strategy: { backoff: 'exponential', initial_ms: 50 } } }) })
  assert.equal(r.ok, true, JSON.stringify(r))
  assert.equal(r.contract.first_connect.value, 'cascade')
  assert.equal(r.contract.params.reconnect_period_ms, 0) // read back after the CONNACK
  assert.equal(r.contract.params.first_connect_period_ms, 50)
  assert.deepEqual(d.events.filter((e) => e.type === 'dial' && !e.text).map((e) => e.server), [down, b.url])
  await b.kill()
  await d.until(() => d.events.some((e) => e.to === 'CLOSED_FAILED'), 3000, 'CLOSED_FAILED')
  assert.equal(d.events.filter((e) => e.type === 'state').at(-1).reason, 'connection_lost')
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(d.events.filter((e) => e.type === 'dial' && !e.text).length, 2)
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

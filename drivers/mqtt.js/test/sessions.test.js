'use strict'
// Many clients in one process, and a refused CONNECT.

const assert = require('node:assert/strict')
const { after, test } = require('node:test')

const { spawnDriver, assertLifecycle } = require('../testing/proc')
const { startBroker } = require('../testing/broker')
const { publisher } = require('../testing/publisher')

const stops = []
after(() => Promise.all(stops.splice(0).reverse().map((f) => f())))

const options = {
  reconnect: { enabled: true, strategy: { backoff: 'fixed', initial_ms: 100 } },
  failover: { auto: true, cascading: true },
  liveness_ms: 2000,
  connect_timeout_ms: 1000
}

test('two clients in one process: ids fl-<driver>-<client>, events carry their client, close closes one, exit the other', async () => {
  const b = await startBroker(stops)
  const d = spawnDriver(stops)
  const [r0, r1] = await Promise.all([
    d.do({ op: 'connect', client: 0, driver: 1, seed: 1, servers: [b.url], options }),
    d.do({ op: 'connect', client: 1, driver: 2, seed: 1, servers: [b.url], options })
  ])
  assert.equal(r0.ok && r1.ok, true)
  assert.equal(r0.contract.params.client_id, 'fl-1-0')
  assert.equal(r1.contract.params.client_id, 'fl-2-1')
  assert.ok(d.events.every((e) => e.client === 0 || e.client === 1), JSON.stringify(d.events))
  assert.equal(d.states(0).at(-1).session, 'fl-1-0')
  assert.equal(d.states(1).at(-1).session, 'fl-2-1')
  assert.equal((await d.do({ op: 'subscribe', client: 1, topic: 'prices' })).ok, true)
  assert.equal((await d.do({ op: 'send', client: 0, payload: 'x' })).ok, true)
  assert.equal((await d.do({ op: 'send', client: 0, payload: 'y' })).ok, true)
  assert.equal((await d.do({ op: 'send', client: 1, payload: 'z' })).ok, true)
  await d.until(() => b.received('fl-1-0').length === 2 && b.received('fl-2-1').length === 1, 3000, 'the sends')
  await publisher(stops, b.url).publish('prices', 7)
  await d.until(() => d.of('message', 1).length === 1, 3000, 'client 1 message')
  assert.equal(d.of('message', 0).length, 0)
  assert.equal(d.of('message', 1)[0].seq, 7)
  assert.equal((await d.do({ op: 'close', client: 0 })).ok, true)
  assert.equal(d.states(0).at(-1).to, 'CLOSED_BY_CLIENT')
  assert.equal(d.states(1).at(-1).to, 'CONNECTED_ACTIVE')
  // A line without an id cannot be answered; in a multi-session process
  // an event without a client would be malformed: it goes to stderr.
  d.p.stdin.write('not json\n')
  assert.deepEqual(await d.do({ op: 'probe' }), { re: d.nextID - 1, ok: true })
  assert.equal(d.events.filter((e) => e.client === undefined).length, 0)
  assert.equal((await d.do({ op: 'exit' })).ok, true)
  assert.deepEqual(await d.exited, { code: 0, signal: null })
  assert.equal(d.states(1).at(-1).to, 'CLOSED_BY_CLIENT')
  assert.match(d.stderr, /bad op line/)
  assertLifecycle(d.events)
})

test('a broker refusing the CONNECT (CONNACK 5): CLOSED_FAILED access_denied', async () => {
  const b = await startBroker(stops, { anonymous: false })
  const d = spawnDriver(stops)
  const r = await d.do({ op: 'connect', servers: [b.url], options })
  assert.equal(r.ok, false)
  assert.match(r.error, /CONNACK return code 5 \(not authorized\)/)
  const last = d.events.filter((e) => e.type === 'state').at(-1)
  assert.deepEqual([last.to, last.reason, last.tried], ['CLOSED_FAILED', 'access_denied', [b.url]])
  assert.ok(d.events.some((e) => e.type === 'error' && /refused the CONNECT: CONNACK return code 5/.test(e.text)))
  assertLifecycle(d.events)
  d.p.stdin.end()
  assert.deepEqual(await d.exited, { code: 0, signal: null })
})

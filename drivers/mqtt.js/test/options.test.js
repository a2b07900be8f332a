'use strict'
// The options → mqtt.connect() mapping and its effective contract, without
// a broker.

const assert = require('node:assert/strict')
const { test } = require('node:test')

const { planFor, parseServer } = require('../lib/options')
const { clientIdOf } = require('../lib/driver')
const { numbered, seqOf, reasonOf } = require('../lib/wire')

const env = {}
const plan = (options, servers = ['mqtt://127.0.0.1:1883']) => planFor(servers, options, { clientId: 'fl-1-0', env })
const unsupported = (p) => p.contract.unsupported.map((u) => u.option)

test('server URLs: mqtt:// host and port, 1883 by default, IPv6 unbracketed, others refused', () => {
  assert.deepEqual(parseServer('mqtt://127.0.0.1:40111'), { host: '127.0.0.1', port: 40111 })
  assert.deepEqual(parseServer('mqtt://localhost'), { host: 'localhost', port: 1883 })
  assert.deepEqual(parseServer('mqtt://[::1]:7'), { host: '::1', port: 7 })
  assert.deepEqual(parseServer('127.0.0.1:9'), { host: '127.0.0.1', port: 9 })
  assert.throws(() => parseServer('ws://127.0.0.1:1/'), /only mqtt:\/\//)
})

test('the library defaults when nothing is asked', () => {
  const p = plan(undefined)
  assert.deepEqual(p.opts, { servers: [{ host: '127.0.0.1', port: 1883 }], protocol: 'mqtt', protocolVersion: 4, clientId: 'fl-1-0', clean: true })
  assert.equal(p.qos, 0)
  assert.equal(p.reconnect, true)
  assert.deepEqual(unsupported(p), [])
  assert.equal(p.contract.delivery.value, 'at_most_once')
  assert.equal(p.contract.buffer.value, 'while_reconnecting')
  assert.match(p.contract.liveness.cite, /keepalive 60 s/)
})

test('a fixed strategy is reconnectPeriod; exponential, jitter and attempts are not expressible', () => {
  const fixed = plan({ reconnect: { enabled: true, strategy: { backoff: 'fixed', initial_ms: 250 } } })
  assert.equal(fixed.opts.reconnectPeriod, 250)
  assert.deepEqual(unsupported(fixed), [])
  assert.match(fixed.contract.delay.cite, /reconnectPeriod 250 ms/)
  const exp = plan({ reconnect: { enabled: true, timeout_ms: 3000, strategy: { backoff: 'exponential', initial_ms: 100, multiplier: 2, max_ms: 1000, attempts: 5, jitter: 0.2 } } })
  assert.equal(exp.opts.reconnectPeriod, 100)
  assert.deepEqual(unsupported(exp), ['reconnect.strategy', 'reconnect.strategy.jitter', 'reconnect.strategy.attempts', 'reconnect.timeout_ms'])
  assert.equal(exp.contract.delay.value, 'constant')
  // An exponential strategy that cannot grow is a constant one.
  const flat = plan({ reconnect: { enabled: true, strategy: { backoff: 'exponential', initial_ms: 100, multiplier: 1 } } })
  assert.deepEqual(unsupported(flat), [])
})

test('reconnect.enabled false: reconnectPeriod 0, a single first attempt, no buffer, no failover', () => {
  const p = plan({ reconnect: { enabled: false }, failover: { auto: true, cascading: false } }, ['mqtt://a:1', 'mqtt://b:2'])
  assert.equal(p.opts.reconnectPeriod, 0)
  assert.equal(p.reconnect, false)
  assert.equal(p.walks, false)
  assert.equal(p.firstAttempts, 1)
  assert.equal(p.contract.first_connect.value, 'single')
  assert.equal(p.contract.buffer.value, 'none')
  assert.equal(p.contract.close_error.value, 'names_tried')
  assert.deepEqual(unsupported(p), ['failover.auto'])
  assert.deepEqual(p.contract.driver_adds, [])
})

test('reconnect.enabled false with cascading: reconnectPeriod for the first connect only (the driver adds it)', () => {
  const p = plan({ reconnect: { enabled: false, strategy: { backoff: 'exponential', initial_ms: 100 } }, failover: { cascading: true } }, ['mqtt://a:1', 'mqtt://b:2'])
  assert.equal(p.opts.reconnectPeriod, 100)
  assert.equal(p.reconnect, false)
  assert.equal(p.walks, true)
  assert.equal(p.cascadeOnly, true)
  assert.equal(p.firstAttempts, 2)
  assert.equal(p.contract.first_connect.value, 'cascade')
  assert.equal(p.contract.buffer.value, 'none')
  assert.deepEqual(unsupported(p), [])
  assert.equal(p.contract.driver_adds.length, 2)
  assert.match(p.contract.driver_adds[0].what, /reconnectPeriod 100 ms during the first connect/)
  const wrong = planFor(['mqtt://a:1', 'mqtt://b:2'], { reconnect: { enabled: true }, failover: { cascading: true } }, { clientId: 'x', env: { FAULTLINE_MQTT_AGAINST: 'no_reconnect' } })
  assert.equal(wrong.opts.reconnectPeriod, 0)
  assert.equal(wrong.walks, false)
  assert.equal(wrong.contract.first_connect.value, 'single')
  assert.deepEqual(wrong.contract.driver_adds.map((a) => a.what), ['FAULTLINE_MQTT_AGAINST=no_reconnect'])
})

test('failover: autofailover off and load balancing cannot be expressed; the first connect walks the list once', () => {
  const p = plan({ failover: { auto: false, load_balancing: true, cascading: true } }, ['mqtt://a:1', 'mqtt://b:2', 'mqtt://c:3'])
  assert.deepEqual(unsupported(p), ['failover.load_balancing', 'failover.auto'])
  assert.equal(p.firstAttempts, 3)
  assert.equal(p.contract.first_connect.value, 'cascade')
  assert.equal(p.contract.close_error.value, 'names_tried')
  assert.match(p.contract.driver_adds[0].what, /once 3 attempt\(s\) failed/)
})

test('liveness: whole seconds of keepalive, detection within 2K', () => {
  assert.equal(plan({ liveness_ms: 4000 }).opts.keepalive, 2)
  assert.deepEqual(unsupported(plan({ liveness_ms: 4000 })), [])
  const short = plan({ liveness_ms: 300 })
  assert.equal(short.opts.keepalive, 1)
  assert.deepEqual(unsupported(short), ['liveness_ms'])
  assert.match(short.contract.unsupported[0].reason, /bounds detection by 2 s/)
  assert.equal(plan({ liveness_ms: 5000 }).opts.keepalive, 2)
})

test('keep_session, delivery, credentials and connect timeout', () => {
  const p = plan({ keep_session: true, delivery: 'at_least_once', principal: 'u', credentials: 'p', connect_timeout_ms: 750 })
  assert.equal(p.opts.clean, false)
  assert.equal(p.qos, 1)
  assert.equal(p.opts.username, 'u')
  assert.equal(p.opts.password, 'p')
  assert.equal(p.opts.connectTimeout, 750)
  assert.equal(p.contract.delivery.value, 'at_least_once')
  const odd = plan({ delivery: 'exactly_once' })
  assert.equal(odd.qos, 0)
  assert.deepEqual(unsupported(odd), ['delivery'])
  assert.equal(plan({ delivery: 'at_least_once', reconnect: { enabled: false } }).contract.delivery.value, 'at_most_once')
})

test('FAULTLINE_MQTT_AGAINST settings, and an unknown one', () => {
  const p = planFor(['mqtt://a:1'], { keep_session: true }, { clientId: 'x', env: { FAULTLINE_MQTT_AGAINST: 'no_queue_qos0,clean_session' } })
  assert.equal(p.opts.queueQoSZero, false)
  assert.equal(p.opts.clean, true)
  assert.equal(p.contract.buffer.value, 'none')
  assert.deepEqual(p.contract.driver_adds.slice(1).map((a) => a.what), ['FAULTLINE_MQTT_AGAINST=no_queue_qos0', 'FAULTLINE_MQTT_AGAINST=clean_session'])
  assert.throws(() => planFor(['mqtt://a:1'], {}, { clientId: 'x', env: { FAULTLINE_MQTT_AGAINST: 'nope' } }), /unknown setting "nope"/)
})

test('client ids, send numbering, message numbers, close reasons', () => {
  assert.equal(clientIdOf({ client: 3, driver: 4 }, {}), 'fl-4-3')
  assert.equal(clientIdOf({}, { FAULTLINE_DRIVER: '2' }), 'fl-2-0')
  assert.equal(clientIdOf({}, {}), 'fl-0-0')
  assert.equal(numbered(3, { a: 1 }), '{"n":3,"payload":{"a":1}}')
  assert.equal(numbered(1, undefined), '{"n":1}')
  assert.equal(seqOf(Buffer.from('{"n":12}')), 12)
  assert.equal(seqOf(Buffer.from('7')), 7)
  assert.equal(seqOf(Buffer.from('nope')), undefined)
  assert.equal(reasonOf(5), 'access_denied')
  assert.equal(reasonOf(4), 'access_denied')
  assert.equal(reasonOf(2), 'handshake_rejected')
  assert.equal(reasonOf(0), 'connection_error')
})

test('refusal and resubscribe follow reconnection and the clean flag', () => {
  const b = require('../lib/contract').builtin()
  assert.deepEqual([b.refusal.value, b.resubscribe.value], ['retry', 'auto'])
  const p = plan({ reconnect: { enabled: true } })
  assert.deepEqual([p.contract.refusal.value, p.contract.resubscribe.value], ['retry', 'auto'])
  assert.match(p.contract.refusal.cite, /_handleConnack\(\) \(l\.1355\)/)
  assert.match(p.contract.refusal.cite, /the driver gives it up after 1 failed attempt/)
  const kept = plan({ keep_session: true })
  assert.equal(kept.contract.resubscribe.value, 'none')
  assert.match(kept.contract.resubscribe.cite, /\(session present 0\) gets no SUBSCRIBE again/)
  const off = plan({ reconnect: { enabled: false } })
  assert.deepEqual([off.contract.refusal.value, off.contract.resubscribe.value], ['ends', 'none'])
  const wrong = planFor(['mqtt://a:1'], { keep_session: true }, { clientId: 'x', env: { FAULTLINE_MQTT_AGAINST: 'clean_session' } })
  assert.equal(wrong.contract.resubscribe.value, 'auto')
})

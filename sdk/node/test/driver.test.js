// The stdio driver as the harness runs it: `node driver.js`, one process,
// no flag (the engine brings its own WebSocket client), newline-delimited
// JSON on stdin/stdout, against a scripted fake server.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { spawnDriver } from '../testing/driverproc.js';
import { startFake } from '../testing/fake.js';
import { startWsServer } from '../testing/wsserver.js';

const stops = [];
after(() => Promise.all(stops.map((f) => f())));
const startDriver = (env) => spawnDriver(stops, env);

const options = {
  reconnect: { enabled: true, timeout_ms: 2000, retention_ms: 2000, strategy: { backoff: 'fixed', initial_ms: 20 } },
  failover: { auto: false, load_balancing: false, cascading: false },
  connect_timeout_ms: 300,
};

test('hello first, then replies and events for a whole session; exit ends the process', async () => {
  const f = await startFake({ pingMs: 50 });
  stops.push(() => f.stop());
  const d = startDriver();
  await d.until(() => d.lines.length >= 1, 10_000, 'hello');
  assert.deepEqual(d.lines[0], { sdk: 'faultline-node', version: '0.1.0', features: ['reconnect', 'failover', 'load_balancing', 'cascading'], sessions: 4096 });

  assert.deepEqual(await d.do({ op: 'connect', servers: [f.url], options }), { re: 1, ok: true });
  assert.deepEqual(d.events.map((e) => e.to), ['CONNECTING', 'CONNECTED_ACTIVE'], 'state events before the reply');
  assert.deepEqual(d.events[1], { type: 'state', from: 'CONNECTING', to: 'CONNECTED_ACTIVE', server: f.url, session: 'sess-1' });
  assert.equal(f.hellos[0].retention_ms, 2000);

  assert.equal((await d.do({ op: 'subscribe', topic: 'prices' })).ok, true);
  await f.until(() => f.subs.length === 1);
  f.publish('prices', 1);
  f.publish('prices', 2);
  await d.until(() => d.events.filter((e) => e.type === 'message').length === 2, 2000, 'messages');
  assert.deepEqual(d.events.filter((e) => e.type === 'message'), [
    { type: 'message', topic: 'prices', seq: 1 }, { type: 'message', topic: 'prices', seq: 2 }]);

  assert.equal((await d.do({ op: 'send', payload: 'm1' })).ok, true);
  assert.equal((await d.do({ op: 'send' })).ok, true);
  await f.until(() => f.received.length === 2);

  const bad = await d.do({ op: 'teleport' });
  assert.equal(bad.ok, false);
  assert.match(bad.error, /unknown op/);
  const req = await d.do({ op: 'request', rows: 3 });
  assert.equal(req.ok, false);
  assert.match(req.error, /not implemented/);
  d.p.stdin.write('this is not json\n');
  await d.until(() => d.events.some((e) => e.type === 'error' && /bad op line/.test(e.text)), 2000, 'error event');

  // A reset: RECOVERING_RECONNECT, then back, with the same session.
  f.answer = () => ({ kind: 'resumed' });
  f.reset();
  await d.until(() => d.events.filter((e) => e.to === 'CONNECTED_ACTIVE').length === 2, 3000, 'recovered');
  assert.ok(d.events.some((e) => e.to === 'RECOVERING_RECONNECT'));

  assert.deepEqual(await d.do({ op: 'close' }), { re: d.nextID - 1, ok: true });
  const closed = d.events.at(-1);
  assert.deepEqual([closed.to, closed.reason], ['CLOSED_BY_CLIENT', 'closed_by_client']);
  assert.equal(f.closes, 1);
  assert.equal((await d.do({ op: 'send', payload: 'late' })).ok, false);

  assert.equal((await d.do({ op: 'exit' })).ok, true);
  const t0 = performance.now();
  assert.deepEqual(await d.exited, { code: 0, signal: null });
  assert.ok(performance.now() - t0 < 2000);
});

test('a failed first connection: CLOSED_FAILED naming each server tried, and the connect reply says why', async () => {
  const dead = await startWsServer({ onConnection: () => {} });
  await dead.stop();
  const f = await startFake();
  stops.push(() => f.stop());
  f.resetHandshake = true;
  const d = startDriver();
  const rep = await d.do({ op: 'connect', servers: [dead.url, f.url], options: { ...options, failover: { cascading: true } } }, 10_000);
  assert.equal(rep.ok, false);
  assert.match(rep.error, /CLOSED_FAILED/);
  assert.ok(rep.error.includes(dead.url) && rep.error.includes(f.url), rep.error);
  const last = d.events.filter((e) => e.type === 'state').at(-1);
  assert.equal(last.to, 'CLOSED_FAILED');
  assert.equal(last.reason, 'connection_error');
  assert.deepEqual(last.tried, [dead.url, f.url]);
  d.p.stdin.end();
  assert.deepEqual(await d.exited, { code: 0, signal: null });
});

test('the end of stdin closes the session (close{} to the server) and exits', async () => {
  const f = await startFake();
  stops.push(() => f.stop());
  const d = startDriver();
  assert.equal((await d.do({ op: 'connect', servers: [f.url], options }, 10_000)).ok, true);
  d.p.stdin.end();
  assert.deepEqual(await d.exited, { code: 0, signal: null });
  assert.equal(f.closes, 1);
  assert.equal(d.events.at(-1).to, 'CLOSED_BY_CLIENT');
});

test('FAULTLINE_SEED makes the failover shuffle reproducible per driver', async () => {
  const { randomFromEnv } = await import('../lib/driver.js');
  const a = randomFromEnv({ FAULTLINE_SEED: '1', FAULTLINE_DRIVER: '3' });
  const b = randomFromEnv({ FAULTLINE_SEED: '1', FAULTLINE_DRIVER: '3' });
  const c = randomFromEnv({ FAULTLINE_SEED: '1', FAULTLINE_DRIVER: '4' });
  const xs = [a(), a(), a()];
  assert.deepEqual(xs, [b(), b(), b()]);
  assert.notDeepEqual(xs, [c(), c(), c()]);
  assert.equal(randomFromEnv({}), undefined);
});

// The multi-session driver: one process, a session per client, ops and
// events naming their client (harness/driver/sessions.go).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { randomFor, randomFromEnv } from '../lib/driver.js';
import { spawnDriver } from '../testing/driverproc.js';
import { startFake } from '../testing/fake.js';

const stops = [];
after(() => Promise.all(stops.map((f) => f())));

const options = {
  reconnect: { enabled: true, timeout_ms: 2000, retention_ms: 2000, strategy: { backoff: 'fixed', initial_ms: 20 } },
  failover: { auto: false, load_balancing: false, cascading: false },
  connect_timeout_ms: 300,
};

test('two clients in one process: events by client, close closes one session, exit both', async () => {
  const a = await startFake();
  const b = await startFake({ session: 'sess-b' });
  stops.push(() => a.stop(), () => b.stop());
  const d = spawnDriver(stops);
  await d.until(() => d.lines.length >= 1, 10_000, 'hello');
  assert.equal(d.lines[0].sessions, 4096);

  // ids unique per process, as the harness sends them
  const [ra, rb] = await Promise.all([
    d.do({ op: 'connect', client: 0, driver: 1, seed: 1, servers: [a.url], options }),
    d.do({ op: 'connect', client: 7, driver: 8, seed: 1, servers: [b.url], options }),
  ]);
  assert.equal(ra.ok && rb.ok, true, JSON.stringify([ra, rb]));
  const of = (k) => d.events.filter((e) => e.client === k);
  assert.deepEqual(of(0).map((e) => [e.to, e.session]), [['CONNECTING', undefined], ['CONNECTED_ACTIVE', 'sess-1']]);
  assert.deepEqual(of(7).map((e) => [e.to, e.session]), [['CONNECTING', undefined], ['CONNECTED_ACTIVE', 'sess-b']]);
  assert.ok(d.events.every((e) => e.client === 0 || e.client === 7), 'every event names its client');

  assert.equal((await d.do({ op: 'subscribe', client: 7, topic: 'prices' })).ok, true);
  await b.until(() => b.subs.length === 1);
  assert.equal(a.subs.length, 0, "client 7's subscribe went to client 0's server");

  assert.equal((await d.do({ op: 'close', client: 0 })).ok, true);
  assert.equal(of(0).at(-1).to, 'CLOSED_BY_CLIENT');
  assert.deepEqual([a.closes, b.closes], [1, 0], 'close for client 0 closes only its session');
  b.publish('prices', 1);
  await d.until(() => of(7).some((e) => e.type === 'message'), 2000, "client 7's message");
  assert.deepEqual(of(7).find((e) => e.type === 'message'), { type: 'message', client: 7, topic: 'prices', seq: 1 });

  const bad = await d.do({ op: 'subscribe', client: -1, topic: 'x' });
  assert.equal(bad.ok, false);
  assert.match(bad.error, /bad client/);
  assert.equal((await d.do({ op: 'send', client: 3, payload: 'x' })).ok, false, 'a client never connected');

  assert.equal((await d.do({ op: 'exit' })).ok, true);
  assert.deepEqual(await d.exited, { code: 0, signal: null });
  assert.equal(b.closes, 1, 'exit closes the sessions still open');
});

test('a client draws the stream its own process would have drawn', () => {
  const env = randomFromEnv({ FAULTLINE_SEED: '1', FAULTLINE_DRIVER: '8' });
  const op = randomFor(1, 8); // a connect op's "seed": 1, "driver": 8
  const other = randomFor(1, 9);
  const xs = [env(), env(), env()];
  assert.deepEqual(xs, [op(), op(), op()]);
  assert.notDeepEqual(xs, [other(), other(), other()]);
});

test('--sessions 1 is the one-session driver: no sessions in the hello, no client on events', async () => {
  const f = await startFake();
  stops.push(() => f.stop());
  const d = spawnDriver(stops, {}, ['--sessions', '1']);
  await d.until(() => d.lines.length >= 1, 10_000, 'hello');
  assert.equal('sessions' in d.lines[0], false);
  assert.equal((await d.do({ op: 'connect', servers: [f.url], options })).ok, true);
  assert.ok(d.events.length > 0 && d.events.every((e) => !('client' in e)));
  d.p.stdin.end();
  assert.deepEqual(await d.exited, { code: 0, signal: null });
});

test('--sessions refuses what is not a count', async () => {
  const d = spawnDriver(stops, {}, ['--sessions', '0']);
  assert.deepEqual(await d.exited, { code: 2, signal: null });
  assert.match(d.stderr, /usage: driver.js \[--sessions N\]/);
});

// Cascading (C1–C3), autofailover and load balancing (F1–F4) against several
// scripted fake servers over real loopback WebSockets.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { Session } from '../lib/session.js';
import { Backoff } from '../lib/backoff.js';
import { failoverOrder, seededRandom } from '../lib/walk.js';
import { startFake, recorder } from '../testing/fake.js';
import { startWsServer } from '../testing/wsserver.js';

const stops = [];
after(() => Promise.all(stops.map((f) => f())));
const fakes = async (n, opts = {}) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const f = await startFake({ session: `sess-s${i + 1}`, ...opts });
    stops.push(() => f.stop());
    out.push(f);
  }
  return out;
};
// refusedURL is a port nothing listens on any more (a link that is down).
const refusedURL = async () => {
  const srv = await startWsServer({ onConnection: () => {} });
  await srv.stop();
  return srv.url;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const session = (servers, opts = {}) => {
  const r = recorder();
  const s = new Session({
    servers,
    reconnect: false,
    connectTimeoutMs: 300,
    strategy: new Backoff({ initialMs: 20, fixed: true }),
    ...opts,
    onState: r.onState,
    onMessage: r.onMessage,
    onError: r.onError,
  });
  return { s, r };
};

test('C1: the first connection cascades in list order past refused, reset and held servers, each bounded by the connect timeout', async () => {
  const down = await refusedURL();
  const [s2, s3, s4] = await fakes(3);
  s2.resetHandshake = true;
  s3.holdHandshake = true;
  const { s, r } = session([down, s2.url, s3.url, s4.url], { cascading: true });
  const t0 = performance.now();
  await s.open();
  const took = performance.now() - t0;
  assert.equal(r.states.at(-1).to, 'CONNECTED_ACTIVE');
  assert.equal(r.states.at(-1).server, s4.url);
  assert.equal(r.states.at(-1).session, s.id);
  assert.equal(s4.hellos.length, 1);
  assert.deepEqual([s2.dials.length, s3.dials.length, s4.dials.length], [1, 1, 1]);
  assert.ok(s2.dials[0] < s3.dials[0] && s3.dials[0] < s4.dials[0], 'list order');
  const held = s4.dials[0] - s3.dials[0];
  // The fakes stamp a dial when their own event loop reaches it, which on a
  // loaded machine follows the client's dial start (where the connect timer
  // starts) by a few tens of ms (seen: 284ms): the low side allows 50ms of it.
  assert.ok(held >= 250 && held < 600, `the held attempt cost ${held.toFixed(0)}ms, connect timeout 300ms`);
  assert.ok(took < 1500, `cascade took ${took.toFixed(0)}ms`);
  assert.equal(r.errors.filter((e) => e.code === 'ERR_ATTEMPT_FAILED').length, 3);
  // A timed-out attempt is dropped for good: undici, left to abort the
  // upgrade itself, would open a second connection to the held server.
  await sleep(150);
  assert.deepEqual([s2.dials.length, s3.dials.length], [1, 1], 'one attempt per server');
  await s.close();
});

test('C2: when every server fails the session closes CLOSED_FAILED naming each server tried, and stops', async () => {
  const down = await refusedURL();
  const [s2, s3] = await fakes(2);
  s2.resetHandshake = true;
  s3.holdHandshake = true;
  const { s, r } = session([down, s2.url, s3.url], { cascading: true, failover: true });
  await assert.rejects(s.open(), (e) => {
    assert.equal(e.state, 'CLOSED_FAILED');
    assert.equal(e.reason, 'connection_error');
    assert.deepEqual(e.tried, [down, s2.url, s3.url]);
    for (const u of [down, s2.url, s3.url]) assert.ok(e.message.includes(u), `${e.message} names ${u}`);
    return true;
  });
  const last = r.states.at(-1);
  assert.equal(last.to, 'CLOSED_FAILED');
  assert.deepEqual(last.tried, [down, s2.url, s3.url]);
  await sleep(100);
  assert.deepEqual([s2.dials.length, s3.dials.length], [1, 1], 'nothing after the close');
});

test('C3: without cascading only the first server is tried, even with failover on', async () => {
  const [s1, s2] = await fakes(2);
  s1.resetHandshake = true;
  const { s, r } = session([s1.url, s2.url], { cascading: false, failover: true });
  await assert.rejects(s.open(), (e) => e.reason === 'connection_error' && e.tried.length === 1);
  assert.deepEqual(r.states.at(-1).tried, [s1.url]);
  await sleep(50);
  assert.equal(s2.dials.length, 0);
});

test('an explicit refusal (access denied) ends the cascade: another server would answer the same', async () => {
  const [s1, s2] = await fakes(2);
  s1.answer = () => ({ kind: 'refused', reason: 'access_denied' });
  const { s } = session([s1.url, s2.url], { cascading: true });
  await assert.rejects(s.open(), (e) => e.reason === 'access_denied');
  assert.equal(s2.dials.length, 0);
});

test('garbage in answer to the hello is a failed attempt: the cascade goes on (handshake_rejected if last)', async () => {
  const [s1, s2] = await fakes(2);
  s1.answer = () => ({ kind: 'garbage' });
  const { s, r } = session([s1.url, s2.url], { cascading: true });
  await s.open();
  assert.equal(r.states.at(-1).server, s2.url);
  await s.close();
  const [s3] = await fakes(1);
  s3.answer = () => ({ kind: 'garbage' });
  const x = session([s3.url], { cascading: true });
  await assert.rejects(x.s.open(), (e) => e.reason === 'handshake_rejected');
});

test('F1, F4: with autofailover, a lost session is replaced by a NEW session on the next server in list order', async () => {
  const [s1, s2, s3] = await fakes(3, { ack: false });
  const { s, r } = session([s1.url, s2.url, s3.url], { failover: true });
  s.subscribe('prices');
  await s.open();
  s.send('unacked');
  await s1.until(() => s1.received.length === 1);
  s1.reset();
  await r.until(() => r.states.filter((c) => c.to === 'CONNECTED_ACTIVE').length === 2, 2000, 'failover');
  const give = r.states.find((c) => c.from === 'CONNECTED_ACTIVE' && c.to === 'CONNECTING');
  assert.equal(give.reason, 'connection_lost');
  assert.equal(give.server, s1.url);
  assert.equal(give.session, 'sess-s1');
  const now = r.states.at(-1);
  assert.equal(now.server, s2.url);
  assert.equal(now.session, 'sess-s2');
  assert.equal(s2.hellos[0].session, undefined, 'a new session: nothing resumed');
  assert.equal(s3.dials.length, 0);
  assert.deepEqual(s2.subs, [], 'subscriptions are not carried over');
  assert.ok(r.errors.some((e) => e.code === 'ERR_SENDS_DISCARDED'), 'unacked sends reported discarded');
  await sleep(50);
  assert.deepEqual(s2.received, [], 'never resent to another server');
  // F2: lost again, it goes on to the next one.
  s2.reset();
  await r.until(() => r.states.filter((c) => c.to === 'CONNECTED_ACTIVE').length === 3, 2000, 'second failover');
  assert.equal(r.states.at(-1).server, s3.url);
  await s.close();
});

test('F2: a failover whose next server fails goes on to the next; all failing → CLOSED_FAILED naming each, the lost one last', async () => {
  const [s1, s2, s3] = await fakes(3);
  const { s, r } = session([s1.url, s2.url, s3.url], { failover: true });
  await s.open();
  s2.resetHandshake = true;
  s3.holdHandshake = true;
  s1.resetHandshake = true;
  s1.reset();
  await r.untilState('CLOSED_FAILED', 3000);
  const last = r.states.at(-1);
  assert.deepEqual(last.tried, [s2.url, s3.url, s1.url]);
  assert.equal(last.reason, 'connection_error');
  await sleep(100);
  assert.deepEqual([s1.dials.length, s2.dials.length, s3.dials.length], [2, 1, 1]);
});

test('F1 with reconnection on: recover first on the lost server; fail over once recovery is impossible', async () => {
  const [s1, s2] = await fakes(2);
  const { s, r } = session([s1.url, s2.url], { failover: true, reconnect: true, reconnectTimeoutMs: 2000 });
  await s.open();
  s1.answer = () => ({ kind: 'resumed' });
  s1.reset();
  await r.until(() => r.states.filter((c) => c.to === 'CONNECTED_ACTIVE').length === 2, 2000, 'recovered');
  assert.equal(r.states.at(-1).session, 'sess-s1');
  assert.equal(s2.dials.length, 0, 'a recoverable loss never fails over');
  s1.answer = () => ({ kind: 'refused', reason: 'unknown_session' });
  s1.reset();
  await r.until(() => r.states.filter((c) => c.to === 'CONNECTED_ACTIVE').length === 3, 2000, 'failed over');
  const give = r.states.find((c) => c.from === 'RECOVERING_RECONNECT' && c.to === 'CONNECTING');
  assert.equal(give.reason, 'unknown_session');
  assert.equal(r.states.at(-1).server, s2.url);
  assert.equal(r.states.at(-1).session, 'sess-s2');
  await s.close();
});

test('F1 with reconnection on: the reconnection timeout ends in a failover, not a close', async () => {
  const [s1, s2] = await fakes(2);
  const { s, r } = session([s1.url, s2.url], { failover: true, reconnect: true, reconnectTimeoutMs: 200 });
  await s.open();
  s1.resetHandshake = true;
  s1.reset();
  await r.until(() => r.states.filter((c) => c.to === 'CONNECTED_ACTIVE').length === 2, 2000, 'failed over');
  assert.equal(r.states.find((c) => c.to === 'CONNECTING' && c.from).reason, 'reconnect_timeout');
  assert.equal(r.states.at(-1).server, s2.url);
  await s.close();
});

test('F3: with load balancing the failover walks a Fisher–Yates shuffle of the others, the lost one last', async () => {
  const [s1, s2, s3, s4] = await fakes(4);
  const urls = [s1.url, s2.url, s3.url, s4.url];
  const { s, r } = session(urls, { failover: true, loadBalancing: true, random: seededRandom(99) });
  await s.open();
  for (const f of [s1, s2, s3, s4]) f.resetHandshake = true;
  s1.reset();
  await r.untilState('CLOSED_FAILED', 3000);
  const expected = failoverOrder(urls, s1.url, true, seededRandom(99));
  assert.deepEqual(r.states.at(-1).tried, expected);
  assert.equal(expected.at(-1), s1.url);
});

test('F3: over many failovers each other server is chosen first about equally often', async () => {
  const [s1, s2, s3, s4] = await fakes(4);
  const urls = [s1.url, s2.url, s3.url, s4.url];
  const counts = new Map();
  const random = seededRandom(2024);
  const trials = 60;
  for (let i = 0; i < trials; i++) {
    const { s, r } = session(urls, { failover: true, loadBalancing: true, random });
    await s.open();
    s1.reset();
    await r.until(() => r.states.filter((c) => c.to === 'CONNECTED_ACTIVE').length === 2, 2000, 'failover');
    const chosen = r.states.at(-1).server;
    counts.set(chosen, (counts.get(chosen) ?? 0) + 1);
    await s.close();
  }
  assert.equal(counts.has(s1.url), false, 'the lost server is never the first choice');
  // Chi-square with 2 degrees of freedom; 13.8 is the 0.001 critical value.
  const e = trials / 3;
  const chi2 = [s2, s3, s4].reduce((acc, f) => acc + ((counts.get(f.url) ?? 0) - e) ** 2 / e, 0);
  assert.ok(chi2 < 13.8, `chi-square ${chi2.toFixed(2)}: ${JSON.stringify([...counts.values()])}`);
});

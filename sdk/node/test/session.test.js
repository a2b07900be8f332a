// The session's state machine against a scripted fake server over real
// loopback WebSockets: connection, loss detection, the reconnection strategy
// and its one overall timeout, recovery in both directions, deliberate
// closes, and the opt-out. Cascading and failover are in walk-session.test.js.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { Session } from '../lib/session.js';
import { Backoff } from '../lib/backoff.js';
import { startFake, recorder } from '../testing/fake.js';

const fakes = [];
after(() => Promise.all(fakes.map((f) => f.stop())));
const fake = async (opts) => {
  const f = await startFake(opts);
  fakes.push(f);
  return f;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const session = (f, opts = {}) => {
  const r = recorder();
  const s = new Session({
    servers: [f.url],
    strategy: new Backoff({ initialMs: 20, fixed: true }),
    reconnectTimeoutMs: 2000,
    connectTimeoutMs: 500,
    ...opts,
    onState: r.onState,
    onMessage: r.onMessage,
    onError: r.onError,
  });
  return { s, r };
};

test('connects: CONNECTING → CONNECTED_ACTIVE with the server\'s session; hello asks for the retention', async () => {
  const f = await fake();
  const { s, r } = session(f, { retentionMs: 1234, principal: 'alice', credentials: 'secret' });
  await s.open();
  assert.deepEqual(r.path(), ['CONNECTING', 'CONNECTED_ACTIVE']);
  assert.equal(r.states[0].from, '');
  assert.equal(r.states[1].session, 'sess-1');
  assert.equal(r.states[1].server, f.url);
  assert.equal(s.id, 'sess-1');
  assert.deepEqual(f.hellos[0], { t: 'hello', principal: 'alice', credentials: 'secret', retention_ms: 1234 });
  await s.close();
});

test('subscribes, delivers each seq once and in order, pongs and acks on ping', async () => {
  const f = await fake({ pingMs: 40 });
  const { s, r } = session(f);
  s.subscribe('prices');
  s.subscribe('prices'); // twice is a no-op
  await s.open();
  await f.until(() => f.subs.length === 1, 1000, 'sub');
  for (const seq of [1, 2, 2, 3, 1]) f.publish('prices', seq);
  await r.until(() => r.messages.length === 3, 1000, '3 messages');
  await f.until(() => f.acks.length > 0, 1000, 'an ack');
  assert.deepEqual(f.subs, ['prices']);
  assert.deepEqual(r.messages.map((m) => m.seq), [1, 2, 3]);
  assert.deepEqual(f.acks.at(-1), { t: 'ack', topic: 'prices', seq: 3 });
  await s.close();
});

test('R1 + R3: a reset is a loss; the resume carries session, token and last seqs, and the unacked sends are resent exactly once', async () => {
  const f = await fake({ pingMs: 50, ack: false }); // no acks: every send stays in the recovery buffer
  const { s, r } = session(f);
  s.subscribe('prices');
  await s.open();
  await f.until(() => f.subs.length === 1);
  f.publish('prices', 1);
  f.publish('prices', 2);
  for (let i = 1; i <= 5; i++) s.send(`m${i}`);
  await f.until(() => f.received.length === 5 && r.messages.length === 2, 1000, 'sends and messages');
  // The server got 1..3 only (as if 4 and 5 died in the link).
  f.answer = () => ({ kind: 'resumed', received: 3, replay: [{ t: 'msg', topic: 'prices', seq: 2 }, { t: 'msg', topic: 'prices', seq: 3 }] });
  f.reset();
  await r.untilState('RECOVERING_RECONNECT', 1000);
  s.subscribe('news'); // made while recovering: sent on resume
  await r.until(() => r.states.filter((c) => c.to === 'CONNECTED_ACTIVE').length === 2, 2000, 'reconnected');
  await f.until(() => f.received.length === 7 && f.subs.length === 2, 1000, 'resends');
  const resume = f.hellos[1];
  assert.equal(resume.session, 'sess-1');
  assert.equal(resume.token, 'tok-1');
  assert.deepEqual(resume.last, { prices: 2 });
  assert.deepEqual(f.received, [1, 2, 3, 4, 5, 4, 5]); // 4 and 5 again, once each, in order
  assert.deepEqual(f.subs, ['prices', 'news']);
  assert.deepEqual(r.messages.map((m) => m.seq), [1, 2, 3]); // replayed 2 dropped, 3 delivered once
  assert.deepEqual(r.path(), ['CONNECTING', 'CONNECTED_ACTIVE', 'RECOVERING_RECONNECT', 'CONNECTED_ACTIVE']);
  assert.equal(r.states[3].session, 'sess-1');
  await s.close();
});

test('R1: a blackhole is detected within the liveness bound (2 × the announced ping)', async () => {
  const f = await fake({ pingMs: 50 });
  const { s, r } = session(f);
  await s.open();
  await sleep(120);
  const t0 = performance.now();
  f.blackhole();
  f.answer = () => ({ kind: 'resumed' });
  await r.untilState('RECOVERING_RECONNECT', 1000);
  const detected = performance.now() - t0;
  assert.ok(detected <= 100 + 100, `detected after ${detected.toFixed(0)}ms, bound 100ms`);
  assert.ok(r.errors.some((e) => /idle/.test(e.message)), r.errors.map((e) => e.message).join('; '));
  await r.until(() => r.path().at(-1) === 'CONNECTED_ACTIVE', 2000, 'recovered');
  await s.close();
});

test('the liveness option overrides 2 × ping', async () => {
  const f = await fake({ pingMs: 500 });
  const { s, r } = session(f, { livenessMs: 80 });
  await s.open();
  const t0 = performance.now();
  await r.untilState('RECOVERING_RECONNECT', 1000); // no ping comes within 80ms
  assert.ok(performance.now() - t0 < 300);
  await s.close();
});

test('R2: attempts, as the server sees them, follow min(initial·2^n, max), the first after initial', async () => {
  const f = await fake();
  const { s, r } = session(f, { strategy: new Backoff({ initialMs: 40, multiplier: 2, maxMs: 200 }), reconnectTimeoutMs: 5000 });
  await s.open();
  f.resetHandshake = true; // every attempt reaches the server, which resets it
  const t0 = performance.now();
  f.reset();
  await f.until(() => f.dials.length >= 6, 3000, '5 attempts');
  const at = f.dials.slice(1, 6).map((d) => d - t0);
  // Each gap from the previous dial, not the cumulative time: a busy machine
  // delays every timer a little and cumulative bounds would add those up.
  // Never early is the sharp side (a wrong multiplier is early by a lot);
  // the late side allows the attempt's own handshake and a loaded machine.
  const delays = [40, 80, 160, 200, 200];
  at.forEach((a, i) => {
    const gap = a - (i === 0 ? 0 : at[i - 1]);
    assert.ok(gap >= delays[i] - 5 && gap <= delays[i] + 120, `attempt ${i + 1} came ${gap.toFixed(0)}ms after the previous, expected ~${delays[i]}ms (all: ${at.map((x) => x.toFixed(0))})`);
  });
  assert.equal(r.path().at(-1), 'RECOVERING_RECONNECT');
  await s.close();
});

test('R2: a strategy that aborts closes the session (reconnect_aborted) after its attempts', async () => {
  const f = await fake();
  const { s, r } = session(f, { strategy: new Backoff({ initialMs: 10, maxAttempts: 3 }) });
  await s.open();
  f.resetHandshake = true;
  f.reset();
  await r.untilState('CLOSED_FAILED', 2000);
  assert.equal(r.states.at(-1).reason, 'reconnect_aborted');
  assert.equal(f.dials.length, 1 + 3);
  await sleep(100);
  assert.equal(f.dials.length, 4, 'nothing after the close');
  assert.equal(s.err.reason, 'reconnect_aborted');
});

test('R5: one overall timer from the first loss closes the session (reconnect_timeout) and stops the attempts', async () => {
  const f = await fake();
  const { s, r } = session(f, { strategy: new Backoff({ initialMs: 30, fixed: true }), reconnectTimeoutMs: 300 });
  await s.open();
  f.resetHandshake = true;
  const t0 = performance.now();
  f.reset();
  await r.untilState('CLOSED_FAILED', 2000);
  const closedAt = performance.now() - t0;
  assert.equal(r.states.at(-1).reason, 'reconnect_timeout');
  assert.ok(closedAt >= 290 && closedAt < 700, `closed after ${closedAt.toFixed(0)}ms, timeout 300ms`);
  // An attempt launched just before the close may still reach the server
  // just after it: count once that has settled, then expect silence.
  await sleep(50);
  const dials = f.dials.length;
  assert.ok(dials >= 4, `${dials - 1} attempts`);
  await sleep(150);
  assert.equal(f.dials.length, dials, 'no attempt after the timeout');
});

test('R5: an attempt is bounded by what is left of the overall timeout', async () => {
  const f = await fake();
  const { s, r } = session(f, { strategy: new Backoff({ initialMs: 10 }), reconnectTimeoutMs: 250, connectTimeoutMs: 5000 });
  await s.open();
  f.holdHandshake = true; // the attempt would wait its 5s connect timeout
  const t0 = performance.now();
  f.reset();
  await r.untilState('CLOSED_FAILED', 2000);
  assert.ok(performance.now() - t0 < 450);
  assert.equal(r.states.at(-1).reason, 'reconnect_timeout');
});

test('R9: after a successful reconnect the strategy starts again from its first delay', async () => {
  const f = await fake();
  const { s, r } = session(f, { strategy: new Backoff({ initialMs: 40, multiplier: 4, maxMs: 2000 }), reconnectTimeoutMs: 5000 });
  await s.open();
  // First outage: two refused attempts (at 40 and 40+160), the third resumes.
  f.answer = (i) => (i < 3 ? { kind: 'hangup' } : { kind: 'resumed' });
  f.reset();
  await r.until(() => r.path().filter((x) => x === 'CONNECTED_ACTIVE').length === 2, 3000, 'first recovery');
  // Second outage: the first attempt must come after 40ms again, not 640ms.
  f.answer = () => ({ kind: 'resumed' });
  const dials = f.dials.length;
  const t0 = performance.now();
  f.reset();
  await f.until(() => f.dials.length > dials, 2000, 'an attempt');
  const first = f.dials[dials] - t0;
  assert.ok(first < 40 + 150, `first attempt of the second outage after ${first.toFixed(0)}ms`);
  await r.until(() => r.path().filter((x) => x === 'CONNECTED_ACTIVE').length === 3, 2000, 'second recovery');
  await s.close();
});

test('R6: a resume refused as unknown_session closes the session instead of looping', async () => {
  const f = await fake();
  const { s, r } = session(f);
  await s.open();
  f.answer = () => ({ kind: 'refused', reason: 'unknown_session' });
  f.reset();
  await r.untilState('CLOSED_FAILED', 2000);
  assert.equal(r.states.at(-1).reason, 'unknown_session');
  await sleep(80);
  assert.equal(f.dials.length, 2);
});

test('R3: a resume refused with lost_messages closes the session (lost_messages): never a silent loss', async () => {
  const f = await fake();
  const { s, r } = session(f);
  await s.open();
  f.answer = () => ({ kind: 'refused', reason: 'lost_messages' });
  f.reset();
  await r.untilState('CLOSED_FAILED', 2000);
  assert.equal(r.states.at(-1).reason, 'lost_messages');
});

test('R3: a gap in a topic closes the session (lost_messages)', async () => {
  const f = await fake();
  const { s, r } = session(f);
  s.subscribe('p');
  await s.open();
  f.publish('p', 1);
  f.publish('p', 3);
  await r.untilState('CLOSED_FAILED', 1000);
  assert.equal(r.states.at(-1).reason, 'lost_messages');
  assert.deepEqual(r.messages.map((m) => m.seq), [1]);
});

test('R3: a resume the client\'s buffer cannot cover closes with lost_messages', async () => {
  const f = await fake({ ack: true });
  const { s, r } = session(f);
  await s.open();
  s.send('a');
  s.send('b');
  await f.until(() => f.received.length === 2);
  await sleep(30); // the acks trim the buffer
  f.answer = () => ({ kind: 'resumed', received: 1 }); // claims it lacks 2, which was acked and dropped
  f.reset();
  await r.untilState('CLOSED_FAILED', 2000);
  assert.equal(r.states.at(-1).reason, 'lost_messages');
});

test('R8: closed by the server, the session does not reconnect', async () => {
  const f = await fake();
  const { s, r } = session(f);
  await s.open();
  f.closeSession();
  await r.untilState('CLOSED_BY_SERVER', 1000);
  assert.equal(r.states.at(-1).reason, 'closed_by_server');
  await sleep(100);
  assert.equal(f.dials.length, 1);
});

test('R8: closed by the client: close{} to the server, CLOSED_BY_CLIENT, nothing after', async () => {
  const f = await fake();
  const { s, r } = session(f);
  await s.open();
  await s.close();
  assert.equal(f.closes, 1);
  assert.deepEqual(r.path(), ['CONNECTING', 'CONNECTED_ACTIVE', 'CLOSED_BY_CLIENT']);
  assert.equal(r.states.at(-1).reason, 'closed_by_client');
  assert.throws(() => s.send('late'), /closed/);
  await s.close(); // twice is fine
  await sleep(80);
  assert.equal(f.dials.length, 1);
});

test('R8: close while recovering stops the attempts and clears every timer', async () => {
  const f = await fake();
  const { s, r } = session(f, { strategy: new Backoff({ initialMs: 200 }), reconnectTimeoutMs: 60_000 });
  await s.open();
  f.reset();
  await r.untilState('RECOVERING_RECONNECT', 1000);
  await s.close();
  assert.equal(r.path().at(-1), 'CLOSED_BY_CLIENT');
  await sleep(300);
  assert.equal(f.dials.length, 1);
  // A pending 60s timer would keep this test file's process alive: the
  // runner would then time out instead of passing.
});

test('R7: a session that opted out tells the server and closes at once on loss, with zero attempts', async () => {
  const f = await fake();
  const { s, r } = session(f, { reconnect: false });
  await s.open();
  assert.equal(f.hellos[0].no_reconnect, true);
  f.reset();
  await r.untilState('CLOSED_FAILED', 1000);
  assert.equal(r.states.at(-1).reason, 'connection_lost');
  assert.ok(!r.path().includes('RECOVERING_RECONNECT'));
  await sleep(100);
  assert.equal(f.dials.length, 1);
});

test('the first connection refused (access denied) closes CLOSED_FAILED and open() rejects', async () => {
  const f = await fake({ answer: () => ({ kind: 'refused', reason: 'access_denied' }) });
  const { s, r } = session(f);
  await assert.rejects(s.open(), (e) => e.reason === 'access_denied' && e.state === 'CLOSED_FAILED');
  assert.deepEqual(r.path(), ['CONNECTING', 'CLOSED_FAILED']);
});

test('sends beyond the recovery buffer are refused', async () => {
  const f = await fake({ ack: false });
  const { s } = session(f, { recoveryBuffer: 2 });
  await s.open();
  s.send(1);
  s.send(2);
  assert.throws(() => s.send(3), (e) => e.code === 'ERR_RECOVERY_BUFFER_FULL');
  await s.close();
});

test('garbage on an established connection is a loss, recovered like any other', async () => {
  const f = await fake();
  const { s, r } = session(f);
  await s.open();
  f.answer = () => ({ kind: 'resumed' });
  f.live.sendText('{"t":"nonsense"}');
  await r.until(() => r.path().filter((x) => x === 'CONNECTED_ACTIVE').length === 2, 2000, 'recovered');
  assert.ok(r.errors.some((e) => e.code === 'ERR_PROTOCOL'));
  await s.close();
});

import assert from 'node:assert/strict';
import test from 'node:test';

import { Backoff, MAX_TIMER_MS, defaultStrategy } from '../lib/backoff.js';

// A stand-in for the session's attempt: records what the strategy decided.
function fakeAttempt() {
  const a = { started: 0, aborted: 0, voids: [] };
  a.start = () => a.started++;
  a.abort = () => a.aborted++;
  a.onVoid = (f) => a.voids.push(f);
  return a;
}

test('exponential delays are min(initial·mult^n, max), the first being initial', () => {
  const b = new Backoff({ initialMs: 10, multiplier: 2, maxMs: 500 });
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => b.delay(n)), [10, 20, 40, 80, 160, 320, 500, 500]);
});

test('multiplier 0 (omitted in the options JSON) means 2', () => {
  const b = new Backoff({ initialMs: 50, multiplier: 0 });
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => b.delay(n)), [50, 100, 200, 400, 800]);
});

test('a multiplier other than 2 is honoured', () => {
  const b = new Backoff({ initialMs: 100, multiplier: 1.5, maxMs: 1000 });
  assert.deepEqual([0, 1, 2, 3].map((n) => b.delay(n)), [100, 150, 225, 337.5]);
});

test('fixed back-off waits initial every time', () => {
  const b = new Backoff({ initialMs: 100, fixed: true, maxMs: 50 });
  assert.deepEqual([0, 1, 9].map((n) => b.delay(n)), [50, 50, 50]); // max still caps it
  const c = new Backoff({ initialMs: 100, fixed: true });
  assert.deepEqual([0, 1, 9].map((n) => c.delay(n)), [100, 100, 100]);
});

test('without max, delays are clamped to what setTimeout can wait', () => {
  const b = new Backoff({ initialMs: 1000, multiplier: 10 });
  assert.equal(b.delay(40), MAX_TIMER_MS);
  assert.equal(b.delay(2000), MAX_TIMER_MS); // Infinity too
});

test('the default strategy is 100ms doubling up to 5s, as the Go engine', () => {
  const b = defaultStrategy();
  assert.deepEqual([0, 1, 5, 6, 10].map((n) => b.delay(n)), [100, 200, 3200, 5000, 5000]);
});

test('jitter scales a delay into [1 − J, 1] of it', () => {
  let u = 0;
  const b = new Backoff({ initialMs: 100, jitter: 0.5, random: () => u });
  assert.equal(b.jittered(100), 100);
  u = 0.999999;
  assert.ok(Math.abs(b.jittered(100) - 50) < 1e-3);
});

test('bad values are refused', () => {
  assert.throws(() => new Backoff({ initialMs: -1 }), /negative/);
  assert.throws(() => new Backoff({ multiplier: 0.5 }), /multiplier/);
  assert.throws(() => new Backoff({ jitter: 2 }), /jitter/);
  assert.throws(() => new Backoff({ maxAttempts: -3 }), /negative/);
});

test('performReconnection schedules start after the next delay, counting attempts', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const b = new Backoff({ initialMs: 10, multiplier: 2, maxMs: 35 });
  const delays = [];
  for (let i = 0; i < 4; i++) {
    const a = fakeAttempt();
    b.performReconnection(a);
    let waited = 0;
    while (a.started === 0 && waited < 1000) {
      t.mock.timers.tick(1);
      waited++;
    }
    delays.push(waited);
  }
  assert.deepEqual(delays, [10, 20, 35, 35]);
});

test('after maxAttempts attempts the next offer aborts', () => {
  const b = new Backoff({ initialMs: 1, maxAttempts: 2 });
  const as = [fakeAttempt(), fakeAttempt(), fakeAttempt()];
  for (const a of as) b.performReconnection(a);
  assert.deepEqual(as.map((a) => a.aborted), [0, 0, 1]);
  for (const a of as) for (const f of a.voids) f(); // clear the timers
});

test('reset starts the schedule again from the first delay (R9)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const b = new Backoff({ initialMs: 10, multiplier: 2, maxAttempts: 3 });
  for (let i = 0; i < 3; i++) b.performReconnection(fakeAttempt());
  b.reset();
  const a = fakeAttempt();
  b.performReconnection(a);
  assert.equal(a.aborted, 0);
  t.mock.timers.tick(9);
  assert.equal(a.started, 0);
  t.mock.timers.tick(1);
  assert.equal(a.started, 1);
});

test('voiding an attempt clears its timer, so nothing fires into a dead session', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const b = new Backoff({ initialMs: 10 });
  const a = fakeAttempt();
  b.performReconnection(a);
  for (const f of a.voids) f();
  t.mock.timers.tick(100);
  assert.equal(a.started, 0);
});

test('clone gives an independent schedule', () => {
  const b = new Backoff({ initialMs: 1, maxAttempts: 1 });
  b.performReconnection(fakeAttempt());
  const c = b.clone();
  const a = fakeAttempt();
  c.performReconnection(a);
  assert.equal(a.aborted, 0);
  for (const f of a.voids) f();
});

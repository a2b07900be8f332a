import assert from 'node:assert/strict';
import test from 'node:test';

import { cascadeOrder, failoverOrder, seededRandom, shuffle } from '../lib/walk.js';

const S = ['s1', 's2', 's3', 's4'];

test('a cascade is the list in order with cascading on, the first server only without (C1, C3)', () => {
  assert.deepEqual(cascadeOrder(S, true), S);
  assert.deepEqual(cascadeOrder(S, false), ['s1']);
});

test('a failover walks the servers after the lost one, wrapping round, the lost one last (F1, F2, F4)', () => {
  assert.deepEqual(failoverOrder(S, 's1', false), ['s2', 's3', 's4', 's1']);
  assert.deepEqual(failoverOrder(S, 's3', false), ['s4', 's1', 's2', 's3']);
  assert.deepEqual(failoverOrder(['only'], 'only', false), ['only']);
});

test('with load balancing the others are shuffled; the lost one stays last (F3)', () => {
  const random = seededRandom(7);
  for (let i = 0; i < 50; i++) {
    const o = failoverOrder(S, 's2', true, random);
    assert.equal(o.at(-1), 's2');
    assert.deepEqual([...o].sort(), [...S].sort());
  }
});

test('Fisher–Yates is uniform: every candidate first equally often, every permutation too', () => {
  const random = seededRandom(12345);
  const trials = 60000;
  const first = new Map();
  const perms = new Map();
  for (let i = 0; i < trials; i++) {
    const o = shuffle(['a', 'b', 'c'], random);
    first.set(o[0], (first.get(o[0]) ?? 0) + 1);
    perms.set(o.join(''), (perms.get(o.join('')) ?? 0) + 1);
  }
  // Chi-square, 5 degrees of freedom over the 6 permutations: 20.5 is the
  // 0.001 critical value. Sattolo's off-by-one (j < i) gives only 2 of the
  // 6 permutations and fails this by a mile.
  assert.equal(perms.size, 6);
  const e = trials / 6;
  const chi2 = [...perms.values()].reduce((s, o) => s + ((o - e) ** 2) / e, 0);
  assert.ok(chi2 < 20.5, `chi-square ${chi2.toFixed(2)} over permutations ${JSON.stringify([...perms])}`);
  for (const c of ['a', 'b', 'c']) assert.ok(Math.abs(first.get(c) / trials - 1 / 3) < 0.02, `${c} first ${first.get(c)}`);
});

test('seededRandom is reproducible and in [0, 1)', () => {
  const a = seededRandom(1);
  const b = seededRandom(1);
  for (let i = 0; i < 1000; i++) {
    const x = a();
    assert.equal(x, b());
    assert.ok(x >= 0 && x < 1);
  }
});

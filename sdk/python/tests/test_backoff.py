"""The back-off schedule (R2, R9) and the start/abort attempt."""

import asyncio
import itertools
import unittest

from faultline_py.backoff import MAX_DELAY_MS, Attempt, Backoff
from faultline_py.options import from_driver_options


class ScheduleTest(unittest.TestCase):
    def test_exponential_capped(self):
        b = Backoff(initial_ms=50, multiplier=2, max_ms=400)
        self.assertEqual([b.delay(n) for n in range(6)], [50, 100, 200, 400, 400, 400])

    def test_multiplier_three_uncapped(self):
        b = Backoff(initial_ms=10, multiplier=3)
        self.assertEqual([b.delay(n) for n in range(4)], [10, 30, 90, 270])

    def test_multiplier_zero_means_two(self):
        self.assertEqual(Backoff(initial_ms=100, multiplier=0).delay(3), 800)

    def test_fixed_ignores_multiplier_and_n(self):
        b = Backoff(initial_ms=300, multiplier=5, fixed=True)
        self.assertEqual({b.delay(n) for n in range(10)}, {300})

    def test_huge_n_stays_finite(self):
        b = Backoff(initial_ms=100)
        self.assertEqual(b.delay(5000), MAX_DELAY_MS)
        self.assertEqual(Backoff(initial_ms=100, max_ms=5000).delay(5000), 5000)

    def test_jitter_scales_into_one_minus_j_to_one(self):
        for r, want in ((0.0, 300), (0.5, 225), (0.999999, 150.00015)):
            b = Backoff(initial_ms=300, fixed=True, jitter=0.5, random=lambda r=r: r)
            self.assertAlmostEqual(b.jittered(b.delay(0)), want, places=3)

    def test_bad_settings_are_refused(self):
        for kw in ({"initial_ms": -1}, {"multiplier": 0.5}, {"jitter": 1.5}, {"max_attempts": -2},
                   {"initial_ms": "100"}, {"jitter": float("nan")}):
            with self.subTest(kw=kw), self.assertRaises(ValueError):
                Backoff(**kw)

    def test_driver_options_map_onto_the_strategy(self):
        o = from_driver_options(["ws://h:1/"], {"reconnect": {"enabled": True, "timeout_ms": 3000, "strategy": {
            "backoff": "exponential", "initial_ms": 50, "multiplier": 3, "max_ms": 900, "attempts": 4, "jitter": 0.2}}})
        s = o.strategy
        self.assertEqual((s.initial_ms, s.multiplier, s.max_ms, s.max_attempts, s.jitter, s.fixed), (50, 3, 900, 4, 0.2, False))
        self.assertEqual((o.reconnect_timeout_ms, o.retention_ms), (3000, 3000))
        d = from_driver_options(["ws://h:1/"], {"reconnect": {"enabled": True}})
        self.assertEqual([d.strategy.delay(n) for n in range(8)], [100, 200, 400, 800, 1600, 3200, 5000, 5000])


class PerformTest(unittest.IsolatedAsyncioTestCase):
    async def offer(self, b):
        """Offer one attempt; return ("start" | "abort", seconds until decided)."""
        loop = asyncio.get_running_loop()
        got = loop.create_future()
        t0 = loop.time()
        b.perform_reconnection(Attempt(lambda kind, a: got.set_result((kind, loop.time() - t0))))
        return await asyncio.wait_for(got, 2)

    async def test_attempts_follow_the_schedule_then_abort(self):
        b = Backoff(initial_ms=20, multiplier=2, max_ms=60, max_attempts=4)
        seen = [await self.offer(b) for _ in range(5)]
        self.assertEqual([k for k, _ in seen], ["start"] * 4 + ["abort"])
        for (_, took), want in zip(seen, (0.020, 0.040, 0.060, 0.060)):
            self.assertGreaterEqual(took, want - 0.002)  # never early (the loop's clock granularity aside)
            self.assertLess(took, want + 0.25)

    async def test_reset_starts_from_delay_zero(self):
        b = Backoff(initial_ms=10, multiplier=10)
        await self.offer(b)
        await self.offer(b)
        self.assertEqual(b.n, 2)
        b.reset()
        _, took = await self.offer(b)
        self.assertLess(took, 0.09)  # delay 0 (10ms), not delay 2 (1s)

    async def test_a_void_attempt_never_starts(self):
        calls = []
        a = Attempt(lambda kind, att: calls.append(kind))
        Backoff(initial_ms=20).perform_reconnection(a)
        a.kill()
        await asyncio.sleep(0.06)
        self.assertEqual(calls, [])
        self.assertTrue(a.void)

    async def test_only_the_first_decision_counts(self):
        calls = []
        a = Attempt(lambda kind, att: calls.append(kind))
        a.start()
        a.abort()
        a.start()
        self.assertEqual(calls, [])  # posted through the loop, never synchronously
        await asyncio.sleep(0)
        self.assertEqual(calls, ["start"])

    async def test_kill_cancels_a_running_dial_once(self):
        cancels = itertools.count()
        a = Attempt(lambda kind, att: None)
        a.cancel = lambda: next(cancels)
        a.kill()
        a.kill()
        self.assertEqual(next(cancels), 1)


if __name__ == "__main__":
    unittest.main()

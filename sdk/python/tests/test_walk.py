"""Cascade and failover orders, the shuffle, and the seeded streams."""

import collections
import unittest

from faultline_py.walk import cascade_order, failover_order, seeded_random, shuffle

S = ["a", "b", "c", "d"]


class WalkTest(unittest.TestCase):
    def test_cascade_is_list_order_or_the_first_only(self):
        self.assertEqual(cascade_order(S, True), S)
        self.assertEqual(cascade_order(S, False), ["a"])

    def test_failover_goes_on_after_the_lost_one_which_comes_last(self):
        self.assertEqual(failover_order(S, "b", False), ["c", "d", "a", "b"])
        self.assertEqual(failover_order(S, "d", False), ["a", "b", "c", "d"])
        self.assertEqual(failover_order(S, "zz", False), S)

    def test_load_balancing_shuffles_all_but_the_lost_one(self):
        r = seeded_random(1, 1)
        firsts = collections.Counter()
        for _ in range(3000):
            order = failover_order(S, "b", True, r)
            self.assertEqual(order[-1], "b")
            self.assertEqual(sorted(order), S)
            firsts[order[0]] += 1
        self.assertEqual(set(firsts), {"a", "c", "d"})
        for k, n in firsts.items():
            self.assertLess(abs(n - 1000), 150, firsts)  # ~5 sigma for a fair draw; deterministic with the seed

    def test_shuffle_is_fisher_yates_not_sattolo(self):
        r = seeded_random(7, 2)
        perms = collections.Counter(tuple(shuffle(list("xyz"), r)) for _ in range(6000))
        self.assertEqual(len(perms), 6)  # Sattolo's would give only the 2 cyclic ones
        self.assertIn(tuple("xyz"), perms)  # the identity too

    def test_seeded_streams_are_reproducible_and_distinct(self):
        a, b, c = seeded_random(1, 1), seeded_random(1, 1), seeded_random(1, 2)
        xs = [a() for _ in range(5)]
        self.assertEqual(xs, [b() for _ in range(5)])
        self.assertNotEqual(xs, [c() for _ in range(5)])
        self.assertIsNone(seeded_random(None, 1))
        self.assertIsNone(seeded_random("", 1))


if __name__ == "__main__":
    unittest.main()

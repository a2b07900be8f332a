"""FAULTLINE_GRPC_AGAINST: against the scenario on purpose, and said so.

    /usr/bin/python3 -m unittest discover -s drivers/grpcio-python -v
"""

import copy
import sys
import unittest

sys.dont_write_bytecode = True

import against  # noqa: E402
import contract  # noqa: E402

S = ["grpc://127.0.0.1:7001"]


def opts():
    return {"reconnect": {"enabled": True, "strategy": {"backoff": "exponential", "initial_ms": 100, "multiplier": 1.6, "max_ms": 1000}},
            "connect_timeout_ms": 1000, "liveness_ms": 2000}


class Against(unittest.TestCase):
    def test_off_by_default(self):
        p, c = contract.plan_for(S, opts(), {})
        self.assertEqual(p["args"]["grpc.max_reconnect_backoff_ms"], 1000)
        self.assertEqual(p["args"]["grpc.keepalive_time_ms"], 1000)
        self.assertFalse([a for a in c["driver_adds"] if against.ENV in a["what"]])

    def test_no_backoff_and_no_keepalive(self):
        plain_p, plain_c = contract.plan_for(S, opts(), {})
        p, c = contract.plan_for(S, opts(), {against.ENV: " no_backoff ,no_keepalive"})
        for k in against.BACKOFF_ARGS:
            self.assertEqual(p["args"][k], 100, k)
        for k in against.KEEPALIVE_ARGS:
            self.assertNotIn(k, p["args"])
        # The contract keeps the intended numbers; driver_adds says what was done.
        intended = copy.deepcopy(plain_c["params"])
        self.assertEqual(c["params"], intended)
        self.assertEqual(c["liveness"], plain_c["liveness"])
        whats = [a["what"] for a in c["driver_adds"]]
        self.assertTrue(any(w.startswith("FAULTLINE_GRPC_AGAINST=no_backoff: ") for w in whats), whats)
        self.assertTrue(any(w.startswith("FAULTLINE_GRPC_AGAINST=no_keepalive: ") for w in whats), whats)
        self.assertEqual(len(whats), len(plain_c["driver_adds"]) + 2)
        self.assertNotEqual(p["args"], plain_p["args"])

    def test_unknown_setting_refused(self):
        with self.assertRaises(contract.BadOptions) as e:
            contract.plan_for(S, opts(), {against.ENV: "frobnicate"})
        self.assertIn("no_backoff, no_keepalive", str(e.exception))


if __name__ == "__main__":
    unittest.main()

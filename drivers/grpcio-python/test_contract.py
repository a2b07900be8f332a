"""The built-in contract and the options mapping, without processes.

    /usr/bin/python3 -m unittest discover -s drivers/grpcio-python -v
"""

import re
import sys
import unittest

sys.dont_write_bytecode = True

import grpc  # noqa: E402

import contract  # noqa: E402

TERMS = ("first_attempt", "delay_applies", "delay", "jitter", "first_wait", "reset", "attempt_limit", "failover",
         "shuffle", "first_connect", "connect_deadline", "idle_reconnect", "liveness", "overall_timeout",
         "lame_duck", "delivery", "buffer", "close_error", "discovery")
# A citation names the pinned version, a source file and a function in it.
CITE = re.compile(r"^grpc(io)? 1\.51\.1 (C core )?(src/core/\S+\.cc|grpc/_channel\.py) [A-Za-z0-9_:]+\(\)")
S = ["grpc://127.0.0.1:7001", "grpc://127.0.0.1:7002"]


def opts(**kw):
    """A connect's options as the harness fills them (docs/driver-protocol.md)."""
    o = {"reconnect": {"enabled": True, "strategy": {"backoff": "exponential", "initial_ms": 100, "multiplier": 2,
                                                      "max_ms": 1000, "jitter": 0.2}},
         "failover": {"auto": True, "load_balancing": False, "cascading": True}}
    o.update(kw)
    return o


def unsupported(c):
    return {u["option"]: u["reason"] for u in c.get("unsupported", [])}


class HelloTest(unittest.TestCase):
    def test_version(self):
        self.assertEqual(grpc.__version__, "1.51.1")  # Debian bookworm's python3-grpcio

    def test_hello(self):
        h = contract.hello(grpc.__version__, 64)
        self.assertEqual((h["sdk"], h["version"], h["protocol"], h["sessions"]), ("grpcio-python", "1.51.1", "grpc", 64))
        self.assertEqual(h["features"], ["reconnect", "failover", "cascading", "routing", "migration"])
        self.assertNotIn("sessions", contract.hello("1.51.1", 1))
        c = h["contract"]
        self.assertEqual(set(c), set(TERMS))
        for t in TERMS:
            self.assertTrue(c[t]["value"], t)
            self.assertRegex(c[t]["cite"], CITE, t)
        want = {"first_attempt": "immediate", "delay_applies": "per_attempt", "delay": "exponential", "jitter": "symmetric",
                "first_wait": "exact", "reset": "on_success", "attempt_limit": "none", "failover": "top", "shuffle": "none",
                "first_connect": "cascade", "connect_deadline": "max_backoff", "idle_reconnect": "on_demand",
                "liveness": "none", "overall_timeout": "none", "lame_duck": "none", "delivery": "at_most_once",
                "buffer": "none", "close_error": "last_error", "discovery": "ignore"}
        self.assertEqual({t: c[t]["value"] for t in TERMS}, want)

    def test_cite_pattern_fails_on_bare_text(self):
        # The citation test itself must be able to fail.
        self.assertIsNone(CITE.search("grpc reconnects with back-off"))
        self.assertIsNone(CITE.search("grpc 1.60.0 src/core/lib/backoff/backoff.cc BackOff::NextAttemptTime()"))


class PlanTest(unittest.TestCase):
    def test_defaults(self):
        p, c = contract.plan_for(S[:1], {})
        self.assertEqual(p["target"], "ipv4:127.0.0.1:7001")
        self.assertEqual(c["params"]["initial_ms"], 1000)
        self.assertEqual(c["params"]["max_ms"], 120000)
        self.assertEqual(c["params"]["min_connect_timeout_ms"], 20000)
        self.assertNotIn("detect_ms", c["params"])
        self.assertEqual(c["liveness"]["value"], "none")
        self.assertNotIn("grpc.keepalive_time_ms", p["args"])
        self.assertEqual(p["args"]["grpc.use_local_subchannel_pool"], 1)
        self.assertTrue(p["idle_connect"])

    def test_backoff_args(self):
        # jitter 1/3 below ([2/3, 1]·d) is the C core's own band, centred:
        # initial 120 → 100 ms, max 1200 → 1000 ms, jitter 0.2 symmetric
        o = opts(connect_timeout_ms=500)
        o["reconnect"]["strategy"].update(initial_ms=120, max_ms=1200, jitter=1 / 3)
        p, c = contract.plan_for(S, o)
        a = p["args"]
        self.assertEqual((a["grpc.initial_reconnect_backoff_ms"], a["grpc.max_reconnect_backoff_ms"], a["grpc.min_reconnect_backoff_ms"]), (100, 1000, 500))
        pr = c["params"]
        self.assertEqual((pr["initial_ms"], pr["multiplier"], pr["max_ms"], pr["jitter"], pr["first_wait_exact"]), (100, 1.6, 1000, 0.2, True))
        u = unsupported(c)
        self.assertIn("reconnect.strategy.multiplier", u)  # 2 asked, 1.6 fixed
        self.assertIn("1.6", u["reconnect.strategy.multiplier"])
        self.assertNotIn("reconnect.strategy.jitter", u)  # 1/3 asked: the core's band
        # jitter 0.2 below ([0.8, 1]·d) is not: centred at 0.9·d, the core's 0.2 stays
        p, c = contract.plan_for(S, opts(connect_timeout_ms=500))
        self.assertEqual((c["params"]["initial_ms"], c["params"]["max_ms"]), (100, 900))  # 90 ms: the floor
        self.assertIn("only jitter 1/3 is the same band", unsupported(c)["reconnect.strategy.jitter"])
        self.assertNotIn("failover.auto", u)
        self.assertIn("max(current back-off, 500 ms)", c["connect_deadline"]["cite"])

    def test_floors_and_cap(self):
        p, c = contract.plan_for(S, opts(connect_timeout_ms=50, reconnect={"strategy": {"initial_ms": 20, "max_ms": 10, "multiplier": 1.6, "jitter": 0.5}}))
        self.assertEqual((p["initial_ms"], p["max_ms"], p["min_connect_timeout_ms"]), (100, 100, 100))
        u = unsupported(c)
        for k in ("reconnect.strategy.initial_ms", "reconnect.strategy.max_ms", "connect_timeout_ms", "reconnect.strategy.jitter"):
            self.assertIn(k, u)
        self.assertNotIn("reconnect.strategy.multiplier", u)
        p, c = contract.plan_for(S, opts(reconnect={"strategy": {"initial_ms": 500, "max_ms": 200, "multiplier": 1.6, "jitter": 0.2}}))
        self.assertEqual(p["max_ms"], 450)  # never below the first wait (500 and 200 centred: 450, 180)
        self.assertIn("below initial_ms", unsupported(c)["reconnect.strategy.max_ms"])

    def test_fixed(self):
        p, c = contract.plan_for(S, opts(reconnect={"strategy": {"backoff": "fixed", "initial_ms": 250}}))
        self.assertEqual((p["initial_ms"], p["max_ms"]), (250, 250))
        self.assertEqual(c["delay"]["value"], "constant")
        self.assertIn("reconnect.strategy.jitter", unsupported(c))  # jitter 0 asked: the core's 0.2 stays

    def test_what_grpc_lacks(self):
        o = opts(keep_session=True, delivery="at_least_once", migration={"enabled": True}, router={},
                 failover={"auto": False, "cascading": False, "load_balancing": True})
        o["reconnect"].update(timeout_ms=3000, retention_ms=3000, buffer=10)
        o["reconnect"]["strategy"]["attempts"] = 5
        _, c = contract.plan_for(S, o)
        u = unsupported(c)
        for k in ("keep_session", "delivery", "migration", "router", "failover.auto", "failover.cascading",
                  "failover.load_balancing", "reconnect.timeout_ms", "reconnect.retention_ms", "reconnect.buffer",
                  "reconnect.strategy.attempts"):
            self.assertIn(k, u)
            self.assertTrue(u[k])
        # One server: nothing to fail over or cascade over.
        _, c = contract.plan_for(S[:1], opts(failover={"auto": False, "cascading": False}))
        self.assertNotIn("failover.auto", unsupported(c))

    def test_liveness(self):
        t, to, detect, why = contract.keepalive_for(4000)
        self.assertEqual((t, to, detect, why), (2000, 2000, 4000, None))
        t, to, detect, why = contract.keepalive_for(2000)
        self.assertEqual((t, to, detect, why), (1000, 1000, 2000, None))
        t, to, detect, why = contract.keepalive_for(300)
        self.assertEqual((t, to, detect), (150, 150, 1150))
        self.assertIn("once a second", why)
        p, c = contract.plan_for(S, opts(liveness_ms=300))
        self.assertEqual(c["liveness"]["value"], "ping")
        self.assertEqual(c["params"]["detect_ms"], 1150)
        self.assertEqual(p["args"]["grpc.http2.max_pings_without_data"], 0)
        self.assertEqual(p["args"]["grpc.keepalive_permit_without_calls"], 1)
        self.assertIn("liveness_ms", unsupported(c))
        _, c = contract.plan_for(S, opts(liveness_ms=3000))
        self.assertNotIn("liveness_ms", unsupported(c))
        self.assertEqual(c["params"]["detect_ms"], 3000)

    def test_idle_connect_and_reconnect_off(self):
        p, c = contract.plan_for(S, opts(library={"grpc": {"idle_connect": False}}))
        self.assertFalse(p["idle_connect"])
        self.assertFalse(c["params"]["idle_connect"])
        self.assertFalse(any(a["what"].startswith("on every IDLE") for a in c["driver_adds"]))
        self.assertIn("idle_connect false", c["idle_reconnect"]["cite"])
        p, c = contract.plan_for(S, opts())
        self.assertTrue(any(a["what"].startswith("on every IDLE") for a in c["driver_adds"]))
        p, c = contract.plan_for(S, opts(reconnect={"enabled": False}))
        self.assertFalse(p["reconnect"])
        self.assertTrue(any("connection_lost" in a["what"] for a in c["driver_adds"]))

    def test_bad_options(self):
        for servers, o, want in [
            ([], {}, "no servers"),
            (["ws://127.0.0.1:1/"], {}, "grpc://"),
            (S, {"liveness_ms": "soon"}, "liveness_ms"),
            (S, {"reconnect": []}, "reconnect"),
            (S, {"library": {"grpc": {"idle_connect": "no"}}}, "idle_connect"),
            (S, {"library": {"grpc": {"idle": True}}}, "grpc.idle"),
            (S, [], "options"),
        ]:
            with self.assertRaises(contract.BadOptions, msg=want) as cm:
                contract.plan_for(servers, o)
            self.assertIn(want, str(cm.exception))


if __name__ == "__main__":
    unittest.main()

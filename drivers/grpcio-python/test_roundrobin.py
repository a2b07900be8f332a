"""round_robin (client.library.grpc.lb_policy): the contract, the channel's
rotation against in-test Feed servers behind relays, the session's move
when the backend CONNECTED_ACTIVE names is lost, and the discovery ops the
driver refuses.

    /usr/bin/python3 -m unittest discover -s drivers/grpcio-python -v
"""

import sys
import unittest

sys.dont_write_bytecode = True

import contract  # noqa: E402
from feedtest import check_lifecycle, wait_until  # noqa: E402
from test_driver import FAST, Base, opts  # noqa: E402

S = ["grpc://127.0.0.1:7001", "grpc://127.0.0.1:7002", "grpc://127.0.0.1:7003"]
RR = {"library": {"grpc": {"lb_policy": "round_robin"}}}


class RoundRobinContractTest(unittest.TestCase):
    def test_round_robin_terms(self):
        p, c = contract.plan_for(S, dict(FAST, **RR))
        self.assertEqual(p["args"]["grpc.lb_policy_name"], "round_robin")
        self.assertEqual(c["params"]["lb_policy"], "round_robin")
        for k, want in {"failover": "next", "idle_reconnect": "auto", "first_attempt": "immediate", "shuffle": "none",
                        "close_error": "last_error", "delay_applies": "per_attempt"}.items():
            self.assertEqual(c[k]["value"], want, k)
            self.assertIn("round_robin.cc", c[k]["cite"], k)
        self.assertTrue(any("channelz" in a["what"] for a in c["driver_adds"]))

    def test_pick_first_stays_the_default(self):
        p, c = contract.plan_for(S, FAST)
        self.assertEqual((p["args"]["grpc.lb_policy_name"], c["params"]["lb_policy"]), ("pick_first", "pick_first"))
        self.assertEqual(c["failover"]["value"], "top")

    def test_bad_policy(self):
        with self.assertRaises(contract.BadOptions):
            contract.plan_for(S, {"library": {"grpc": {"lb_policy": "weighted"}}})

    def test_routing_declared(self):
        self.assertIn("routing", contract.hello("1.51.1", 64)["features"])


class RoundRobinLiveTest(Base):
    def setUp(self):
        self.servers = [self.server(name="s%d" % (i + 1)) for i in range(3)]
        self.relays = [self.relay(s.port) for s in self.servers]
        self.d = self.driver()
        r = self.d.do("connect", servers=[r.url for r in self.relays], options=opts(**RR))
        self.assertTrue(r["ok"], r)
        for rl in self.relays:
            rl.wait_accepts(1)

    def landed(self):
        """[(n, server name)] of every send received, by n."""
        out = []
        for s in self.servers:
            with s.cv:
                out += [(n, s.name) for _, _, n, _ in s.receives]
        return sorted(out)

    def send(self, k):
        before = len(self.landed())
        for _ in range(k):
            self.assertTrue(self.d.do("send", payload="x")["ok"])
        wait_until(lambda: len(self.landed()) >= before + k, "%d sends landed" % k)

    def test_rotation(self):
        # Until every backend took a send, some were not READY yet (and
        # each READY rebuilds the picker); then nine in a row.
        wait_until(lambda: self.send(1) or len({name for _, name in self.landed()}) == 3, "a send on every backend")
        self.send(9)
        got = [name for _, name in self.landed()][-9:]
        for i in range(len(got) - 2):
            self.assertEqual(len(set(got[i:i + 3])), 3, "three sends in a row on three backends: %s" % got)

    def test_loss_of_the_named_backend(self):
        a = self.d.state("CONNECTED_ACTIVE")
        lost = next(i for i, rl in enumerate(self.relays) if rl.url == a["server"])
        mark = self.d.mark()
        self.relays[lost].cut()
        self.d.state("RECOVERING_RECONNECT", start=mark)
        b = self.d.state("CONNECTED_ACTIVE", start=mark)
        self.assertNotEqual(b["server"], a["server"])
        self.assertNotEqual(b["session"], a["session"])
        before = len([1 for _, name in self.landed() if name == self.servers[lost].name])
        self.send(6)
        after = len([1 for _, name in self.landed() if name == self.servers[lost].name])
        self.assertEqual(after, before, "no send on the lost backend")
        check_lifecycle(self, self.d.states())

    def test_discovery_refused(self):
        for op in ("discovery.add", "discovery.remove"):
            r = self.d.do(op, servers=[self.relays[0].url])
            self.assertFalse(r["ok"])
            self.assertIn("cannot be served", r["error"])
            self.assertIn("ipv4:", r["error"])


if __name__ == "__main__":
    unittest.main()

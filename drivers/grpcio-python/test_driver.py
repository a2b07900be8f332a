"""The driver as the harness runs it (a process speaking the driver
protocol on stdin/stdout) against an in-test Feed server (grpcio's own
server with generic handlers), through TCP relays that record every
connection attempt and can cut, refuse or blackhole.

    /usr/bin/python3 -m unittest discover -s drivers/grpcio-python -v
"""

import sys
import time
import unittest

sys.dont_write_bytecode = True

import grpc  # noqa: E402

from feedtest import WAIT, DriverProc, FeedServer, Relay, check_lifecycle, free_port  # noqa: E402

# Quick reconnects: a first wait of 300 ms, ×1.6 (the core's), capped at 800 ms.
INITIAL_MS, MAX_MS = 300, 800
FAST = {"reconnect": {"enabled": True, "strategy": {"backoff": "exponential", "initial_ms": INITIAL_MS, "multiplier": 1.6,
                                                    "max_ms": MAX_MS, "jitter": 0}},
        "failover": {"auto": True, "load_balancing": False, "cascading": True},
        "connect_timeout_ms": 1000}
# How late a process may act on what it was told, on a loaded 2-core machine.
SLACK = 0.25


def opts(**kw):
    o = dict(FAST)
    o.update(kw)
    return o


def active_after(d, mark, timeout=WAIT):
    return d.state("CONNECTED_ACTIVE", timeout=timeout, start=mark)


class Base(unittest.TestCase):
    def driver(self, **kw):
        d = DriverProc(**kw)
        self.addCleanup(d.kill)
        return d

    def server(self, **kw):
        s = FeedServer(**kw)
        self.addCleanup(s.stop)
        return s

    def relay(self, backend=None, mode="forward"):
        r = Relay(backend, mode)
        self.addCleanup(r.close)
        return r


class HelloTest(Base):
    def test_hello(self):
        d = self.driver()
        h = d.hello
        self.assertEqual((h["sdk"], h["version"], h["protocol"]), ("grpcio-python", grpc.__version__, "grpc"))
        self.assertEqual(h["version"], "1.51.1")
        self.assertEqual(h["features"], ["reconnect", "failover", "cascading", "routing", "migration"])
        self.assertGreater(h["sessions"], 1)
        for t, v in h["contract"].items():
            self.assertTrue(v["value"] and v["cite"], t)
        rc, took = d.exit()
        self.assertEqual(rc, 0)
        self.assertLess(took, 5)

    def test_sessions_flag(self):
        d = self.driver(args=("--sessions", "1"))
        self.assertNotIn("sessions", d.hello)
        d.exit()


class LinesTest(Base):
    def test_malformed_and_refused(self):
        d = self.driver()
        for raw in (b"not json\n", b"[1,2]\n", b"\n", b'{"op":"connect"}\n', b'{"id":"x","op":"probe"}\n', b"\xff\xfe\n"):
            d.write(raw)
        r = d.do("frobnicate")
        self.assertFalse(r["ok"])
        self.assertIn("unknown op", r["error"])
        for name, fields in (("subscribe", {"topic": "t"}), ("send", {"payload": 1}), ("close", {}),
                             ("request", {"rows": 3}), ("cancel", {"request": 1})):
            r = d.do(name, **fields)
            self.assertEqual((r["ok"], r["error"]), (False, "not connected"), name)
        for servers, o, want in (([], {}, "no servers"), (["ws://127.0.0.1:1/"], {}, "grpc://"),
                                 (["grpc://127.0.0.1:1"], {"liveness_ms": "soon"}, "liveness_ms")):
            r = d.do("connect", servers=servers, options=o)
            self.assertFalse(r["ok"])
            self.assertIn(want, r["error"])
        self.assertTrue(d.do("probe")["ok"])
        self.assertEqual(d.states(), [])
        rc, took = d.exit()
        self.assertEqual(rc, 0)
        self.assertLess(took, 5)
        for l in d.lines:
            self.assertTrue(("re" in l) != ("type" in l) or "sdk" in l, l)

    def test_stdin_end(self):
        s = self.server()
        d = self.driver()
        self.assertTrue(d.do("connect", servers=[s.url], options=FAST)["ok"])
        t0 = time.monotonic()
        d.p.stdin.close()
        self.assertEqual(d.p.wait(5), 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(d.states()[-1]["to"], "CLOSED_BY_CLIENT")
        check_lifecycle(self, d.states())


class FeedTest(Base):
    def test_transcript(self):
        s = self.server()
        d = self.driver()
        r = d.do("connect", servers=[s.url], options=FAST)
        self.assertTrue(r["ok"], r)
        c = r["contract"]
        self.assertEqual(c["params"]["client"], "c6")  # FAULTLINE_DRIVER=7, one client per process
        self.assertEqual(c["params"]["channel_args"]["grpc.initial_reconnect_backoff_ms"], INITIAL_MS)
        active = d.state("CONNECTED_ACTIVE")
        (_, client, _, session, name), = s.wait_hellos(1)
        self.assertEqual((client, name), ("c6", "c6"))  # metadata and request
        self.assertEqual((active["session"], active["server"], active["native"]), (session, s.url, "READY (Hello answered)"))

        self.assertTrue(d.do("subscribe", topic="prices")["ok"])
        s.wait_subscribers("prices")
        self.assertEqual(s.subscribes[0][1:], ("c6", "prices"))
        s.publish("prices")
        s.publish("prices")
        d.wait_for(lambda l: l.get("type") == "message" and l.get("seq") == 2, "message 2")
        self.assertEqual([(m["topic"], m["seq"]) for m in d.events("message")], [("prices", 1), ("prices", 2)])

        self.assertTrue(d.do("send", payload={"v": "a"})["ok"])
        self.assertTrue(d.do("send", payload="b")["ok"])
        got = s.wait_receives(2)
        # Two unary RPCs, two HTTP/2 streams: the server may handle them in
        # either order; the numbers tell them apart.
        self.assertEqual(sorted((g[1], g[2], g[3]) for g in got), [("c6", 1, b'{"n":1,"payload":{"v":"a"}}'), ("c6", 2, b'{"n":2,"payload":"b"}')])

        rid = d.op("request", rows=3)
        self.assertTrue(d.reply(rid)["ok"])
        done = d.wait_for(lambda l: l.get("type") == "done", "done")
        self.assertEqual(done, {"type": "done", "request": rid, "cancelled": False})
        self.assertEqual([e["n"] for e in d.events("row")], [1, 2, 3])
        self.assertEqual(s.rows[0][1:], ("c6", str(rid), 3))
        rid2 = d.op("request", rows=1000)
        self.assertTrue(d.reply(rid2)["ok"])
        d.wait_for(lambda l: l.get("type") == "row" and l.get("request") == rid2, "a row of request %d" % rid2)
        self.assertTrue(d.do("cancel", request=rid2)["ok"])
        done2 = d.wait_for(lambda l: l.get("type") == "done" and l.get("request") == rid2, "done of %d" % rid2)
        self.assertTrue(done2["cancelled"])

        r = d.do("close")
        self.assertTrue(r["ok"])
        last = d.states()[-1]
        self.assertEqual((last["to"], last["reason"], last["session"]), ("CLOSED_BY_CLIENT", "closed_by_client", session))
        self.assertFalse(d.do("send", payload=1)["ok"])
        check_lifecycle(self, d.states())
        self.assertEqual([e for e in d.events("error") if "Subscribe" in e["text"]], [])  # the close cancels quietly
        self.assertEqual(d.exit()[0], 0)

    def test_connect_order(self):
        """pick_first walks the list in order: a server that accepts and
        closes, a refused port, then the live one."""
        s = self.server()
        first = self.relay(mode="close")
        refused = "grpc://127.0.0.1:%d" % free_port()
        d = self.driver()
        r = d.do("connect", servers=[first.url, refused, s.url], options=FAST)
        self.assertTrue(r["ok"], r)
        (t_hello, *_), = s.wait_hellos(1)
        (t_accept,) = first.accepts
        self.assertLess(t_accept, t_hello)
        active = d.state("CONNECTED_ACTIVE")
        self.assertEqual(active["server"], s.url)
        self.assertEqual(d.states()[0]["server"], first.url)
        check_lifecycle(self, d.states())
        d.exit()

    def test_connect_deadline_is_max_backoff(self):
        """A server that accepts and never answers holds an attempt for
        max(back-off, min connect timeout): with initial_ms 1000 and
        connect_timeout_ms 300 that is 1 s, then the walk goes on."""
        s = self.server()
        stall = self.relay(mode="hold")
        d = self.driver()
        o = opts(connect_timeout_ms=300, reconnect={"enabled": True, "strategy": {"initial_ms": 1000, "max_ms": 2000, "multiplier": 1.6, "jitter": 0}})
        t0 = time.monotonic()
        r = d.do("connect", servers=[stall.url, s.url], options=o)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["contract"]["connect_deadline"]["value"], "max_backoff")
        (t_hello, *_), = s.wait_hellos(1)
        (t_accept,) = stall.wait_accepts(1)
        self.assertGreaterEqual(t_hello - t_accept, 1.0 - 0.02)  # not the 300 ms asked
        self.assertLess(t_hello - t0, 1.0 + 2 * SLACK)
        self.assertEqual(d.state("CONNECTED_ACTIVE")["server"], s.url)
        d.exit()

    def test_first_connect_fails(self):
        """Every server fails: the first TRANSIENT_FAILURE fails the first
        Hello (fail-fast), the driver closes the channel: no attempt after."""
        a, b = self.relay(mode="close"), self.relay(mode="close")
        d = self.driver()
        r = d.do("connect", servers=[a.url, b.url], options=FAST)
        self.assertFalse(r["ok"])
        self.assertIn("failed to connect to all addresses", r["error"])
        self.assertIn("UNAVAILABLE", r["error"])
        st = d.states()
        self.assertEqual([x["to"] for x in st], ["CONNECTING", "CLOSED_FAILED"])
        self.assertEqual((st[1]["reason"], st[1]["tried"], st[1]["server"]), ("connection_error", [a.url, b.url], b.url))
        self.assertEqual(r["contract"]["close_error"]["value"], "last_error")
        (ta,), (tb,) = a.wait_accepts(1), b.wait_accepts(1)
        self.assertLess(ta, tb)  # list order
        n = len(a.accepts) + len(b.accepts)
        time.sleep(2 * INITIAL_MS / 1000.0 + SLACK)  # past the next attempt's due time
        self.assertEqual(len(a.accepts) + len(b.accepts), n)
        check_lifecycle(self, st)
        d.exit()

    def test_loss_reconnect(self):
        """A cut: RECOVERING at once, the first attempt at once, the next
        one INITIAL_MS later exactly (no jitter on the first wait), then
        ×1.6 ±20 %; back on the same server with a new session, the
        subscription re-opened by the driver."""
        s = self.server()
        r = self.relay(s.port)
        d = self.driver()
        self.assertTrue(d.do("connect", servers=[r.url], options=FAST)["ok"])
        first = d.state("CONNECTED_ACTIVE")
        self.assertTrue(d.do("subscribe", topic="t")["ok"])
        s.wait_subscribers("t")
        t_cut = time.monotonic()
        m = d.mark()
        r.cut("close")
        rec = d.state("RECOVERING_RECONNECT", start=m)
        self.assertEqual((rec["from"], rec["session"], rec["server"]), ("CONNECTED_ACTIVE", first["session"], r.url))
        self.assertLess(d.stamp(rec) - t_cut, SLACK)
        acc = r.wait_accepts(4)[1:]  # the three attempts after the loss
        self.assertLess(acc[0] - t_cut, SLACK)  # first_attempt: immediate
        g1, g2 = acc[1] - acc[0], acc[2] - acc[1]
        w1 = INITIAL_MS / 1000.0
        self.assertGreaterEqual(g1, w1 - 0.02)  # the first wait: exact, never shorter
        self.assertLess(g1, w1 + SLACK)
        w2 = min(INITIAL_MS * 1.6, MAX_MS) / 1000.0
        self.assertGreaterEqual(g2, 0.8 * w2 - 0.02)
        self.assertLess(g2, 1.2 * w2 + SLACK)
        m = d.mark()
        r.mode = "forward"
        back = active_after(d, m)
        self.assertEqual((back["from"], back["server"]), ("RECOVERING_RECONNECT", r.url))
        self.assertNotEqual(back["session"], first["session"])
        self.assertEqual(back["session"], s.wait_hellos(2)[1][3])
        s.wait_subscribers("t")  # re-opened on the new connection
        seq = s.publish("t")
        d.wait_for(lambda l: l.get("type") == "message" and l.get("seq") == seq, "message after the reconnect", start=m)
        self.assertTrue(any("Subscribe t ended: UNAVAILABLE" in e["text"] for e in d.events("error")), d.events("error"))
        check_lifecycle(self, d.states())
        d.exit()

    def test_failover_from_the_top(self):
        """After a loss pick_first starts again at the top of the list."""
        s = self.server()
        a, b = self.relay(s.port), self.relay(s.port)
        d = self.driver()
        self.assertTrue(d.do("connect", servers=[a.url, b.url], options=FAST)["ok"])
        self.assertEqual(d.state("CONNECTED_ACTIVE")["server"], a.url)
        m = d.mark()
        a.cut("close")  # a refuses from now on: the walk goes on to b
        self.assertEqual(active_after(d, m)["server"], b.url)
        self.assertEqual(len(b.accepts), 1)
        n_a = len(a.accepts)
        m = d.mark()
        a.mode = "forward"
        b.cut("close")
        self.assertEqual(active_after(d, m)["server"], a.url)  # the top again, not "the next"
        self.assertEqual(len(a.accepts), n_a + 1)
        check_lifecycle(self, d.states())
        d.exit()

    def test_idle_connect_off(self):
        """client.library.grpc.idle_connect false: after a loss the channel stays
        IDLE (nothing asks it to connect); the next RPC (a send) does."""
        s = self.server()
        r = self.relay(s.port)
        d = self.driver()
        c = d.do("connect", servers=[r.url], options=opts(library={"grpc": {"idle_connect": False}}))["contract"]
        self.assertFalse(c["params"]["idle_connect"])
        d.state("CONNECTED_ACTIVE")
        m = d.mark()
        r.cut("forward")  # a reconnect would succeed at once
        d.state("RECOVERING_RECONNECT", start=m)
        time.sleep(2 * INITIAL_MS / 1000.0 + SLACK)  # well past when idle_connect would have reconnected
        self.assertEqual(len(r.accepts), 1)
        self.assertEqual(d.states()[-1]["to"], "RECOVERING_RECONNECT")
        self.assertTrue(d.do("send", payload="wake")["ok"])
        back = active_after(d, m)
        self.assertEqual(len(r.accepts), 2)
        self.assertEqual(s.wait_receives(1)[0][2:], (1, b'{"n":1,"payload":"wake"}'))  # queued for the pick, sent once READY
        self.assertEqual(back["session"], s.wait_hellos(2)[1][3])
        check_lifecycle(self, d.states())
        d.exit()

    def test_reconnect_disabled(self):
        s = self.server()
        r = self.relay(s.port)
        d = self.driver()
        c = d.do("connect", servers=[r.url], options=opts(reconnect={"enabled": False}))["contract"]
        self.assertTrue(any("connection_lost" in a["what"] for a in c["driver_adds"]))
        d.state("CONNECTED_ACTIVE")
        r.cut("forward")
        closed = d.state("CLOSED_FAILED")
        self.assertEqual(closed["reason"], "connection_lost")
        time.sleep(INITIAL_MS / 1000.0 + SLACK)
        self.assertEqual(len(r.accepts), 1)  # no attempt: the channel is closed
        self.assertFalse(d.do("send", payload=1)["ok"])
        check_lifecycle(self, d.states())
        d.exit()

    def test_keepalive_finds_a_blackhole(self):
        """liveness 2 s: keepalive_time 1 s + keepalive_timeout 1 s; a link
        that goes silent is given up within detect_ms (2 s) of its last
        read, not before the first unanswered PING's watchdog (1 s)."""
        s = self.server()
        r = self.relay(s.port)
        d = self.driver()
        c = d.do("connect", servers=[r.url], options=opts(liveness_ms=2000))["contract"]
        self.assertEqual((c["params"]["detect_ms"], c["params"]["keepalive_time_ms"], c["params"]["keepalive_timeout_ms"]), (2000, 1000, 1000))
        d.state("CONNECTED_ACTIVE")
        time.sleep(1.5)  # a PING or two answered
        t0 = time.monotonic()
        m = d.mark()
        r.blackhole()
        rec = d.state("RECOVERING_RECONNECT", start=m, timeout=6)
        took = d.stamp(rec) - t0
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 2.0 + SLACK + 0.25)
        check_lifecycle(self, d.states())
        d.exit()

    def test_goaway_no_lame_duck(self):
        """A server's graceful stop (GOAWAY): the channel leaves READY at
        once (RECOVERING) while the open stream goes on delivering on the
        old connection until the grace ends."""
        s = self.server()
        d = self.driver()
        self.assertTrue(d.do("connect", servers=[s.url], options=FAST)["ok"])
        d.state("CONNECTED_ACTIVE")
        self.assertTrue(d.do("subscribe", topic="t")["ok"])
        s.wait_subscribers("t")
        m = d.mark()
        srv = s.server
        s.server = None
        stopped = srv.stop(1.5)
        d.state("RECOVERING_RECONNECT", start=m)
        seq = s.publish("t")
        msg = d.wait_for(lambda l: l.get("type") == "message" and l.get("seq") == seq, "a message during the grace", start=m)
        ended = d.wait_for(lambda l: l.get("type") == "error" and "Subscribe t ended" in l.get("text", ""), "the stream's end", start=m)
        self.assertLess(d.index_of(msg), d.index_of(ended))
        stopped.wait(WAIT)
        check_lifecycle(self, d.states())
        d.exit()

    def test_multi_session(self):
        """Two clients in one process: two connections (a local subchannel
        pool each), each with its own Hello."""
        s = self.server()
        d = self.driver()
        ids = {k: d.op("connect", client=k, driver=3 + k, seed=1, servers=[s.url], options=FAST) for k in (0, 1)}
        for k in (0, 1):
            r = d.reply(ids[k])
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["contract"]["params"]["client"], "c%d" % k)
        hellos = s.wait_hellos(2)
        self.assertEqual(sorted(h[1] for h in hellos), ["c0", "c1"])
        self.assertNotEqual(hellos[0][2], hellos[1][2])  # two peers: two connections
        for k in (0, 1):
            self.assertTrue(d.state("CONNECTED_ACTIVE", client=k)["session"].startswith("s1/c%d#" % k))
        self.assertTrue(d.do("close", client=0)["ok"])
        d.state("CLOSED_BY_CLIENT", client=0)
        self.assertEqual(d.states(client=1)[-1]["to"], "CONNECTED_ACTIVE")
        self.assertEqual(d.exit()[0], 0)
        d.state("CLOSED_BY_CLIENT", client=1)
        for l in d.lines:
            if "type" in l:
                self.assertIn(l.get("client"), (0, 1), l)
        for k in (0, 1):
            check_lifecycle(self, d.states(client=k))


if __name__ == "__main__":
    unittest.main()

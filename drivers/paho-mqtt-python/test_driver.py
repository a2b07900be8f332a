"""Tests of the paho-mqtt-python driver: the driver runs as the harness runs
it (a process speaking the driver protocol on stdin/stdout) against a real
mosquitto started on an ephemeral port.

    /usr/bin/python3 -m unittest discover -s drivers/paho-mqtt-python -v
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import paho.mqtt
import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pykit"))
from kittest import DriverProc, check_lifecycle, free_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "driver.py")
MOSQUITTO = "/usr/sbin/mosquitto"
TERMS = ("first_attempt", "delay_applies", "delay", "jitter", "reset", "attempt_limit", "failover",
         "shuffle", "first_connect", "liveness", "overall_timeout", "lame_duck", "delivery", "buffer",
         "discovery", "close_error", "refusal", "resubscribe")
WAIT = 10.0  # every wait below has this deadline unless it says otherwise

# Quick reconnects, so that an outage takes well under a second to heal.
FAST = {"reconnect": {"enabled": True, "strategy": {"backoff": "exponential", "initial_ms": 100, "multiplier": 2, "max_ms": 400}},
        "liveness_ms": 4000, "connect_timeout_ms": 2000}


class Broker:
    """A mosquitto on 127.0.0.1 with a generated config. It cannot take port
    0, so a free port is picked and the start retried if it was taken."""

    def __init__(self, persistence=False):
        self.dir = tempfile.mkdtemp(prefix="fl-paho-py-mosquitto-")
        self.persistence = persistence
        self.proc = None
        self.port = None
        for _ in range(5):
            self.port = free_port()
            if self.start():
                return
        raise RuntimeError("mosquitto did not start")

    def start(self, deadline=5.0):
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\nuser root\nlog_type all\n" % self.port)
            if self.persistence:
                f.write("persistence true\npersistence_location %s/\n" % self.dir)
            else:
                f.write("persistence false\n")
        with open(os.path.join(self.dir, "mosquitto.log"), "ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=log, stderr=log)
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False  # port taken (or the same port still held): retry
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        self.stop(signal.SIGKILL)
        return False

    def wait_log(self, pattern, count=1, timeout=WAIT):
        """Waits until the broker's log holds pattern count times: what the
        broker saw, rather than a sleep that hopes it saw it."""
        end = time.monotonic() + timeout
        while True:
            with open(os.path.join(self.dir, "mosquitto.log"), errors="replace") as f:
                n = len(re.findall(pattern, f.read()))
            if n >= count:
                return
            if time.monotonic() > end:
                raise AssertionError("mosquitto log: %r %d time(s) not within %.1fs (seen %d)" % (pattern, count, timeout, n))
            time.sleep(0.02)

    def restart(self):
        """Starts again on the same port (retried while the port is held)."""
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            if self.start(deadline=2.0):
                return
            time.sleep(0.2)
        raise RuntimeError("mosquitto did not restart on port %d" % self.port)

    def stop(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(WAIT)
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self):
        return "mqtt://127.0.0.1:%d" % self.port


class Peer:
    """A plain paho client of the test's own, to publish and to watch."""

    def __init__(self, port, client_id="", clean=True):
        self.messages = []
        self.cv = threading.Condition()
        self.c = mqtt.Client(client_id=client_id, clean_session=clean)
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def _on_message(self, client, userdata, msg):
        with self.cv:
            self.messages.append((msg.topic, json.loads(msg.payload)))
            self.cv.notify_all()

    def subscribe(self, topic, qos=0):
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos)
        assert done.wait(WAIT), "no SUBACK"

    def publish(self, topic, obj, qos=1):
        self.c.publish(topic, json.dumps(obj), qos=qos).wait_for_publish(WAIT)

    def wait(self, n):
        end = time.monotonic() + WAIT
        with self.cv:
            while len(self.messages) < n and time.monotonic() < end:
                self.cv.wait(0.1)
            return list(self.messages)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


AGAINST = "FAULTLINE_MQTT_AGAINST"


class Base(unittest.TestCase):
    def driver(self, **kw):
        d = DriverProc(DRIVER, drop_env=(AGAINST,), **kw)
        self.addCleanup(d.kill)
        return d

    def broker(self, **kw):
        b = Broker(**kw)
        self.addCleanup(b.close)
        return b

    def peer(self, port, **kw):
        p = Peer(port, **kw)
        self.addCleanup(p.close)
        return p


class HelloTest(Base):
    def test_hello(self):
        d = self.driver()
        h = d.hello
        self.assertEqual(h["sdk"], "paho-mqtt-python")
        self.assertEqual(h["version"], paho.mqtt.__version__)
        self.assertEqual(h["version"], "1.6.1")
        self.assertEqual(h["protocol"], "mqtt")
        self.assertEqual(h["features"], ["reconnect"])
        self.assertIsInstance(h["sessions"], int)
        self.assertGreater(h["sessions"], 1)
        for t in TERMS:
            self.assertIn(t, h["contract"], t)
            self.assertTrue(h["contract"][t]["value"], t)
            self.assertIn("paho", h["contract"][t]["cite"], t)
        c = h["contract"]
        self.assertEqual((c["first_attempt"]["value"], c["delay"]["value"], c["jitter"]["value"], c["reset"]["value"]),
                         ("after_delay", "exponential", "none", "on_success"))
        self.assertEqual(d.exit()[0], 0)

    def test_sessions_flag(self):
        d = self.driver(args=("--sessions", "1"))
        self.assertNotIn("sessions", d.hello)
        d.exit()


class LinesTest(Base):
    def test_malformed_lines(self):
        d = self.driver()
        d.write(b"not json\n")
        d.write(b"[1,2]\n")
        d.write(b"\n")
        d.write(b'{"op":"connect"}\n')
        d.write(b'{"id":"x","op":"probe"}\n')
        d.write(b"\xff\xfe\n")
        r = d.do("frobnicate")
        self.assertFalse(r["ok"])
        self.assertIn("unknown op", r["error"])
        r = d.do("subscribe", topic="t")
        self.assertEqual((r["ok"], r["error"]), (False, "not connected"))
        r = d.do("send", payload={"a": 1})
        self.assertFalse(r["ok"])
        r = d.do("close")
        self.assertFalse(r["ok"])
        r = d.do("connect", servers=[])
        self.assertFalse(r["ok"])
        r = d.do("connect", servers=["ws://127.0.0.1:1/"])
        self.assertFalse(r["ok"])
        r = d.do("connect", servers=["mqtt://127.0.0.1:1"], options={"liveness_ms": "soon"})
        self.assertFalse(r["ok"])
        self.assertIn("liveness_ms", r["error"])
        r = d.do("request", rows=3)
        self.assertFalse(r["ok"])
        self.assertTrue(d.do("probe")["ok"])
        self.assertEqual(d.states(), [])
        rc, took = d.exit()
        self.assertEqual(rc, 0)
        self.assertLess(took, 5)
        for l in d.lines:
            self.assertTrue(("re" in l) != ("type" in l) or "sdk" in l, l)

    def test_refused_dial(self):
        d = self.driver()
        port = free_port()
        r = d.do("connect", servers=["mqtt://127.0.0.1:%d" % port, "mqtt://127.0.0.1:2"], options={"connect_timeout_ms": 300})
        self.assertFalse(r["ok"])
        self.assertIn("Connection refused", r["error"])
        c = r["contract"]
        self.assertEqual([u["option"] for u in c["unsupported"]][:1], ["servers"])
        st = d.states()
        self.assertEqual([s["to"] for s in st], ["CONNECTING", "CLOSED_FAILED"])
        self.assertEqual(st[1]["reason"], "connection_error")
        self.assertEqual(st[1]["tried"], ["mqtt://127.0.0.1:%d" % port])
        dials = d.events("dial")
        self.assertEqual(len(dials), 2)
        self.assertNotIn("text", dials[0])
        self.assertIn("refused", dials[1]["text"])
        check_lifecycle(self, st)
        self.assertEqual(d.exit()[0], 0)

    def test_stdin_end(self):
        b = self.broker()
        d = self.driver()
        self.assertTrue(d.do("connect", servers=[b.url], options=FAST)["ok"])
        t0 = time.monotonic()
        d.p.stdin.close()
        self.assertEqual(d.p.wait(5), 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(d.states()[-1]["to"], "CLOSED_BY_CLIENT")
        check_lifecycle(self, d.states())


class BrokerTest(Base):
    def test_transcript(self):
        b = self.broker()
        watch = self.peer(b.port)
        watch.subscribe("faultline/#", qos=1)
        d = self.driver()
        r = d.do("connect", servers=[b.url], options=dict(FAST, delivery="at_least_once"))
        self.assertTrue(r["ok"], r)
        c = r["contract"]
        self.assertEqual(c["params"]["client_id"], "fl-7-0")
        self.assertEqual(c["params"]["qos"], 1)
        self.assertTrue(c["params"]["clean_session"])
        self.assertEqual((c["params"]["min_delay_s"], c["params"]["max_delay_s"]), (0.1, 0.4))
        self.assertEqual(c["delivery"]["value"], "at_least_once")
        self.assertEqual(c["buffer"]["value"], "while_reconnecting")
        for t in TERMS:
            self.assertTrue(c[t]["cite"], t)
        active = d.state("CONNECTED_ACTIVE")
        self.assertEqual((active["session"], active["server"]), ("fl-7-0", b.url))
        self.assertEqual(len(d.events("dial")), 1)

        self.assertTrue(d.do("subscribe", topic="prices")["ok"])
        b.wait_log(r"Received SUBSCRIBE from fl-7-0")  # before the publishes
        pub = self.peer(b.port)
        pub.publish("prices", {"n": 1})
        pub.publish("prices", {"n": 2})
        d.wait_for(lambda l: l.get("type") == "message" and l.get("seq") == 2, "message 2")
        self.assertEqual([(m["topic"], m["seq"]) for m in d.events("message")], [("prices", 1), ("prices", 2)])

        self.assertTrue(d.do("send", payload={"v": "a"})["ok"])
        self.assertTrue(d.do("send", payload="b", topic="faultline/other")["ok"])
        got = watch.wait(2)
        self.assertEqual(got, [("faultline/send", {"n": 1, "payload": {"v": "a"}}), ("faultline/other", {"n": 2, "payload": "b"})])

        r = d.do("close")
        self.assertTrue(r["ok"])
        last = d.states()[-1]
        self.assertEqual((last["to"], last["reason"], last["session"]), ("CLOSED_BY_CLIENT", "closed_by_client", "fl-7-0"))
        self.assertFalse(d.do("send", payload=1)["ok"])
        check_lifecycle(self, d.states())
        self.assertEqual(d.exit()[0], 0)

    def test_broker_restart(self):
        b = self.broker()
        d = self.driver()
        self.assertTrue(d.do("connect", servers=[b.url], options=FAST)["ok"])
        self.assertTrue(d.do("subscribe", topic="t")["ok"])
        b.wait_log(r"Received SUBSCRIBE from fl-7-0")
        b.stop(signal.SIGKILL)
        rec = d.state("RECOVERING_RECONNECT")
        self.assertEqual((rec["from"], rec["session"]), ("CONNECTED_ACTIVE", "fl-7-0"))
        # QoS 0 while recovering: paho drops it (publish() rc MQTT_ERR_NO_CONN).
        r = d.do("send", payload="lost")
        self.assertFalse(r["ok"])
        self.assertIn("rc 4", r["error"])
        d.wait_for(lambda l: l.get("type") == "dial" and "text" in l, "a failed attempt")
        n = len(d.lines)
        b.restart()
        back = d.wait_for(lambda l: l.get("type") == "state" and l.get("to") == "CONNECTED_ACTIVE", "reconnect", start=n)
        self.assertEqual((back["from"], back["session"]), ("RECOVERING_RECONNECT", "fl-7-0"))
        self.assertGreaterEqual(len([x for x in d.events("dial") if "text" in x]), 1)
        # The driver re-subscribed (clean session: the broker forgot "t").
        b.wait_log(r"Received SUBSCRIBE from fl-7-0", count=2)
        pub = self.peer(b.port)
        pub.publish("t", {"n": 1})
        d.wait_for(lambda l: l.get("type") == "message" and l.get("seq") == 1, "message after reconnect")
        # The send numbers go on: the refused send took none.
        watch = self.peer(b.port)
        watch.subscribe("faultline/send")
        self.assertTrue(d.do("send", payload="x")["ok"])
        self.assertEqual(watch.wait(1)[0][1]["n"], 1)
        check_lifecycle(self, d.states())
        self.assertEqual(d.exit()[0], 0)
        self.assertEqual(d.states()[-1]["to"], "CLOSED_BY_CLIENT")

    def test_frozen_broker(self):
        """A broker that stops answering (SIGSTOP: the connection stays
        open) is found by keepalive: liveness 4 s -> keepalive 1 s, given
        up within (1, 4) s; attempts meanwhile get no CONNACK and end after
        keepalive too."""
        b = self.broker()
        d = self.driver()
        r = d.do("connect", servers=[b.url], options=FAST)
        self.assertEqual(r["contract"]["params"]["keepalive_s"], 1)
        time.sleep(0.3)
        b.proc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            d.state("RECOVERING_RECONNECT", timeout=6)
            took = time.monotonic() - t0
            self.assertLess(took, 4.5)
            m = len(d.lines)  # an attempt without CONNACK, the broker still frozen
            d.wait_for(lambda l: l.get("type") == "dial", "an attempt at the frozen broker", start=m)
        finally:
            b.proc.send_signal(signal.SIGCONT)
        n = len(d.lines)
        d.wait_for(lambda l: l.get("type") == "state" and l.get("to") == "CONNECTED_ACTIVE", "reconnect", start=n)
        self.assertTrue(any("rc=16" in e["text"] for e in d.events("error")), d.events("error"))
        check_lifecycle(self, d.states())
        d.exit()

    def test_against_no_reconnect(self):
        b = self.broker()
        d = self.driver(env={AGAINST: "no_reconnect"})
        r = d.do("connect", servers=[b.url], options=FAST)
        self.assertTrue(r["ok"])
        self.assertFalse(r["contract"]["params"]["reconnect_on_failure"])
        self.assertIn("FAULTLINE_MQTT_AGAINST=no_reconnect", [a["what"] for a in r["contract"]["driver_adds"]])
        b.stop(signal.SIGKILL)
        closed = d.state("CLOSED_FAILED")
        self.assertEqual(closed["reason"], "connection_lost")
        time.sleep(0.5)  # a window longer than FAST's 0.1–0.4 s back-off: absence needs one
        self.assertEqual(len(d.events("dial")), 1)  # no reconnect attempt
        check_lifecycle(self, d.states())
        self.assertEqual(d.exit()[0], 0)

    def test_reconnect_disabled(self):
        b = self.broker()
        d = self.driver()
        opts = dict(FAST, reconnect={"enabled": False})
        r = d.do("connect", servers=[b.url], options=opts)
        self.assertEqual(r["contract"]["buffer"]["value"], "none")
        b.stop(signal.SIGKILL)
        self.assertEqual(d.state("CLOSED_FAILED")["reason"], "connection_lost")
        d.exit()

    def test_against_unknown(self):
        d = self.driver(env={AGAINST: "bogus"})
        r = d.do("connect", servers=["mqtt://127.0.0.1:1"])
        self.assertFalse(r["ok"])
        self.assertIn("bogus", r["error"])
        d.exit()

    def kept_session(self, env):
        """keep_session over a broker restart (persistence on, graceful stop:
        mosquitto saves its sessions): the native name says whether the
        broker still had the session; QoS 1 sends made while the broker was
        down arrive after the reconnect."""
        b = self.broker(persistence=True)
        watch = self.peer(b.port, client_id="watcher", clean=False)
        watch.subscribe("faultline/send", qos=1)
        d = self.driver(env=env)
        opts = dict(FAST, keep_session=True, delivery="at_least_once")
        r = d.do("connect", servers=[b.url], options=opts)
        self.assertTrue(r["ok"])
        self.assertTrue(d.do("subscribe", topic="t")["ok"])
        b.wait_log(r"Received SUBSCRIBE from fl-7-0")
        b.stop(signal.SIGTERM)
        d.state("RECOVERING_RECONNECT")
        r2 = d.do("send", payload="kept")
        self.assertTrue(r2["ok"], r2)  # paho keeps a QoS 1 message (publish() rc 4 all the same)
        n = len(d.lines)
        b.restart()
        back = d.wait_for(lambda l: l.get("type") == "state" and l.get("to") == "CONNECTED_ACTIVE", "reconnect", start=n)
        self.assertEqual(watch.wait(1)[0][1], {"n": 1, "payload": "kept"})
        pub = self.peer(b.port)  # the kept session holds "t": CONNACK said so
        pub.publish("t", {"n": 1})
        d.wait_for(lambda l: l.get("type") == "message" and l.get("seq") == 1, "message after reconnect")
        check_lifecycle(self, d.states())
        d.exit()
        return r["contract"], back

    def test_keep_session(self):
        c, back = self.kept_session({})
        self.assertFalse(c["params"]["clean_session"])
        self.assertIn("session present=1", back["native"])

    def test_against_clean_session(self):
        c, back = self.kept_session({AGAINST: "clean_session"})
        self.assertTrue(c["params"]["clean_session"])
        self.assertIn("FAULTLINE_MQTT_AGAINST=clean_session", [a["what"] for a in c["driver_adds"]])
        # The broker forgot the session; the driver's re-subscribe covers it.
        self.assertIn("session present=0", back["native"])

    def test_multi_session(self):
        b = self.broker()
        d = self.driver()
        ids = {k: d.op("connect", client=k, driver=3 + k, seed=1, servers=[b.url], options=FAST) for k in (0, 1)}
        for k in (0, 1):
            self.assertTrue(d.reply(ids[k])["ok"])
            self.assertEqual(d.state("CONNECTED_ACTIVE", client=k)["session"], "fl-%d-%d" % (3 + k, k))
        self.assertTrue(d.do("close", client=0)["ok"])
        d.state("CLOSED_BY_CLIENT", client=0)
        self.assertEqual(d.states(client=1)[-1]["to"], "CONNECTED_ACTIVE")
        self.assertTrue(d.do("probe")["ok"])
        self.assertEqual(d.exit()[0], 0)
        d.state("CLOSED_BY_CLIENT", client=1)
        for l in d.lines:
            if "type" in l:
                self.assertIn(l.get("client"), (0, 1), l)
        for k in (0, 1):
            check_lifecycle(self, d.states(client=k))

    def test_refused_connack(self):
        """CONNACK 5 (not authorised) from a tiny fake broker: the first
        connect is final, CLOSED_FAILED access_denied, paho's loop stopped."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        self.addCleanup(srv.close)

        def serve():
            try:
                conn, _ = srv.accept()
                conn.recv(1024)
                conn.sendall(bytes([0x20, 2, 0, 5]))
                time.sleep(0.2)
                conn.close()
            except OSError:
                pass
        threading.Thread(target=serve, daemon=True).start()
        d = self.driver()
        r = d.do("connect", servers=["mqtt://127.0.0.1:%d" % srv.getsockname()[1]], options=FAST)
        self.assertFalse(r["ok"])
        self.assertIn("not authorised", r["error"])
        last = d.states()[-1]
        self.assertEqual((last["to"], last["reason"]), ("CLOSED_FAILED", "access_denied"))
        check_lifecycle(self, d.states())
        time.sleep(0.3)
        self.assertEqual(len(d.events("dial")), 1)  # paho's loop was stopped
        d.exit()


class PlanTest(unittest.TestCase):
    """The options mapping, without processes."""

    @classmethod
    def setUpClass(cls):
        sys.dont_write_bytecode = True
        sys.path.insert(0, HERE)
        import driver
        cls.drv = driver

    def test_keepalive(self):
        k = self.drv.keepalive_for
        self.assertEqual(k(0), (60, None))
        self.assertEqual(k(10000), (4, None))
        k1, why = k(300)
        self.assertEqual(k1, 1)
        self.assertIn("whole seconds", why)

    def test_fixed_and_multiplier(self):
        p, c = self.drv.plan_for(["mqtt://h:1"], {"reconnect": {"enabled": True, "strategy": {"backoff": "fixed", "initial_ms": 250, "jitter": 0.2}}}, {})
        self.assertEqual((p["min_delay_s"], p["max_delay_s"]), (0.25, 0.25))
        self.assertEqual(c["delay"]["value"], "constant")
        self.assertIn("reconnect.strategy.jitter", [u["option"] for u in c["unsupported"]])
        p, c = self.drv.plan_for(["mqtt://h"], {"reconnect": {"strategy": {"initial_ms": 100, "multiplier": 3, "max_ms": 50, "attempts": 4}}}, {})
        self.assertEqual((p["port"], p["min_delay_s"], p["max_delay_s"]), (1883, 0.1, 0.1))
        opts = [u["option"] for u in c["unsupported"]]
        self.assertIn("reconnect.strategy.multiplier", opts)
        self.assertIn("reconnect.strategy.attempts", opts)

    def test_no_resubscribe(self):
        p, c = self.drv.plan_for(["mqtt://h:1"], {}, {"FAULTLINE_MQTT_AGAINST": "no_resubscribe, clean_session"})
        self.assertFalse(p["resubscribe"])
        self.assertTrue(p["clean_session"])
        whats = [a["what"] for a in c["driver_adds"]]
        self.assertFalse(any(w.startswith("on_connect re-subscribes") for w in whats))

    def test_mqtt_terms(self):
        """refusal and resubscribe: the library's in the hello, what the
        application gets in the effective contract."""
        b = self.drv.builtin()
        self.assertEqual((b["refusal"]["value"], b["resubscribe"]["value"]), ("retry", "none"))
        p, c = self.drv.plan_for(["mqtt://h:1"], {}, {})
        self.assertEqual((c["refusal"]["value"], c["resubscribe"]["value"]), ("retry", "driver"))
        self.assertTrue(c["resubscribe"]["cite"].startswith("driver: "))
        self.assertIn("paho itself: ", c["resubscribe"]["cite"])
        self.assertTrue(any(a["what"].startswith("on_connect re-subscribes") for a in c["driver_adds"]))
        p, c = self.drv.plan_for(["mqtt://h:1"], {"reconnect": {"enabled": False}}, {"FAULTLINE_MQTT_AGAINST": "no_resubscribe"})
        self.assertEqual((c["refusal"]["value"], c["resubscribe"]["value"]), ("ends", "none"))

    def test_seq(self):
        self.assertEqual(self.drv.seq_of(b'{"n":3}'), 3)
        self.assertEqual(self.drv.seq_of(b"7"), 7)
        self.assertEqual(self.drv.seq_of(b"\xff"), 0)
        self.assertEqual(self.drv.seq_of(b'{"n":true}'), 0)


if __name__ == "__main__":
    unittest.main()

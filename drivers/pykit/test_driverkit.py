"""Tests of the shared driver kit.

    /usr/bin/python3 -m unittest discover -s drivers/pykit -v
"""

import io
import json
import threading
import unittest

import driverkit
import kittest


class LifecycleTest(unittest.TestCase):
    def test_legal_moves(self):
        L = driverkit.legal
        self.assertTrue(L(None, driverkit.CONNECTING))
        self.assertFalse(L(None, driverkit.ACTIVE))
        self.assertTrue(L(driverkit.CONNECTING, driverkit.FAILED))
        self.assertFalse(L(driverkit.CONNECTING, driverkit.RECOVERING))
        self.assertTrue(L(driverkit.ACTIVE, driverkit.RECOVERING))
        self.assertTrue(L(driverkit.RECOVERING, driverkit.CONNECTING))
        for closed in driverkit.CLOSED:
            self.assertFalse(L(closed, driverkit.CONNECTING), closed)

    def test_check_lifecycle_refuses_a_move_after_a_close(self):
        ok = [{"to": "CONNECTING", "phase": "connecting", "native": "x"},
              {"from": "CONNECTING", "to": "CLOSED_FAILED", "phase": "closed_failed", "native": "x", "reason": "r"}]
        kittest.check_lifecycle(self, ok)
        bad = ok + [{"from": "CLOSED_FAILED", "to": "CONNECTING", "phase": "connecting", "native": "x"}]
        with self.assertRaises(AssertionError):
            kittest.check_lifecycle(self, bad)


class BlockingStream(io.BytesIO):
    """A stdout whose writes wait until released."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()

    def write(self, b):
        self.gate.wait(5)
        return super().write(b)


class BrokenStream:
    def write(self, b):
        raise BrokenPipeError()

    def flush(self):
        pass


class OutputTest(unittest.TestCase):
    def test_lines_in_order_and_whole(self):
        s = io.BytesIO()
        out = driverkit.Output(s)
        for i in range(200):
            out.send({"type": "x", "n": i})
        out.flush(5)
        lines = s.getvalue().decode().splitlines()
        self.assertEqual([json.loads(l)["n"] for l in lines], list(range(200)))

    def test_send_never_waits_on_a_slow_stdout(self):
        s = BlockingStream()
        out = driverkit.Output(s)
        for i in range(50):
            out.send({"n": i})  # would hang here if send wrote itself
        self.assertGreater(out.pending, 0)
        s.gate.set()
        out.flush(5)
        self.assertEqual(out.pending, 0)

    def test_a_gone_harness_drops_lines_without_raising(self):
        out = driverkit.Output(BrokenStream())
        out.send({"n": 1})
        out.send({"n": 2})
        out.flush(5)
        self.assertTrue(out.broken)
        self.assertEqual(out.pending, 0)

    def test_nan_is_refused(self):
        out = driverkit.Output(io.BytesIO())
        with self.assertRaises(ValueError):
            out.send({"x": float("nan")})


class OptionsTest(unittest.TestCase):
    def test_option(self):
        d = {"a": 2, "b": 2.0, "c": 2.5, "t": True, "n": None, "s": "x"}
        self.assertEqual(driverkit.option(d, "a", float, 0.0), 2.0)
        self.assertEqual(driverkit.option(d, "b", int, 0), 2)
        self.assertEqual(driverkit.option(d, "n", int, 7), 7)
        self.assertEqual(driverkit.option(d, "missing", str, "d"), "d")
        self.assertEqual(driverkit.option(None, "a", int, 3), 3)
        for key, kind in (("c", int), ("t", int), ("t", float), ("s", int), ("a", str)):
            with self.assertRaises(driverkit.BadOptions) as cm:
                driverkit.option(d, key, kind, None)
            self.assertIn("option %s" % key, str(cm.exception))

    def test_block(self):
        self.assertEqual(driverkit.block({"r": {"x": 1}}, "r"), {"x": 1})
        self.assertEqual(driverkit.block({}, "r"), {})
        self.assertEqual(driverkit.block({"r": None}, "r"), {})
        with self.assertRaises(driverkit.BadOptions):
            driverkit.block({"r": [1]}, "r")


class SeqTest(unittest.TestCase):
    def test_seq_of(self):
        self.assertEqual(driverkit.seq_of(b'{"n": 4}'), 4)
        self.assertEqual(driverkit.seq_of('{"seq": 5}'), 5)
        self.assertEqual(driverkit.seq_of("6"), 6)
        for bad in (b"\xff", "true", '{"n": "4"}', "[]", None, "4.5"):
            self.assertEqual(driverkit.seq_of(bad), 0, bad)


class Captured:
    """An Output stand-in that keeps what was sent."""

    def __init__(self):
        self.sent = []
        self.cv = threading.Condition()

    def send(self, obj):
        with self.cv:
            self.sent.append(obj)
            self.cv.notify_all()

    def flush(self, timeout):
        pass

    def wait(self, pred, timeout=5):
        with self.cv:
            assert self.cv.wait_for(lambda: any(pred(o) for o in self.sent), timeout), self.sent
            return next(o for o in self.sent if pred(o))


class Sess:
    def __init__(self, state="CONNECTED_ACTIVE"):
        self.state = state
        self.closed = threading.Event()

    def close(self):
        self.closed.set()


class EchoHost(driverkit.Host):
    def do(self, op, op_id, name, key):
        if name == "boom":
            raise RuntimeError("bug")
        if name == "connect":
            with self.mu:
                why = self.room_for(key)
                if why is None:
                    self.sessions[key] = Sess()
            return why, ({"k": key} if why is None else None)
        return None, None


class HostTest(unittest.TestCase):
    def make(self, sessions=1):
        out = Captured()
        logs = []
        return EchoHost(out, {}, sessions, logs.append, exit_wait=1.0), out, logs

    def test_every_op_with_an_id_is_answered(self):
        h, out, logs = self.make()
        self.assertFalse(h.line(b'{"id":1,"op":"probe"}'))
        self.assertEqual(out.wait(lambda o: o.get("re") == 1), {"re": 1, "ok": True})
        h.line(b'{"id":2,"op":"connect"}')
        self.assertEqual(out.wait(lambda o: o.get("re") == 2)["contract"], {"k": None})
        h.line(b'{"id":3,"op":"connect"}')
        self.assertEqual(out.wait(lambda o: o.get("re") == 3)["error"], "already connected")
        h.line(b'{"id":4,"op":"boom"}')
        self.assertIn("RuntimeError: bug", out.wait(lambda o: o.get("re") == 4)["error"])
        h.line(b'{"id":5,"op":"connect","client":-1}')
        self.assertIn("bad client -1", out.wait(lambda o: o.get("re") == 5)["error"])

    def test_bad_lines_are_errors_not_the_end(self):
        h, out, logs = self.make()
        self.assertFalse(h.line(b"   \n"))
        self.assertFalse(h.line(b"{nope"))
        self.assertFalse(h.line(b"[1]"))
        self.assertFalse(h.line(b'{"op":"connect","id":true}'))
        texts = [o["text"] for o in out.sent if o.get("type") == "error"]
        self.assertEqual(len(texts), 3, out.sent)
        self.assertIn("bad op line", texts[0])
        self.assertIn("not a JSON object", texts[1])
        self.assertIn('op without an integer id: {"op":"connect","id":true}', texts[2])

    def test_a_multi_session_drivers_error_without_client_goes_to_stderr(self):
        h, out, logs = self.make(sessions=4)
        h.line(b'{"id":1,"op":"connect","client":0}')
        out.wait(lambda o: o.get("re") == 1)
        h.line(b"{nope")
        self.assertEqual([o for o in out.sent if o.get("type") == "error"], [])
        self.assertTrue(any("bad op line" in l for l in logs), logs)

    def test_the_process_holds_sessions_plus_the_default(self):
        h, out, logs = self.make(sessions=1)
        for i, c in enumerate((0, 1, 2), 1):
            h.line(('{"id":%d,"op":"connect","client":%d}' % (i, c)).encode())
        self.assertEqual(out.wait(lambda o: o.get("re") == 3)["error"], "this process hosts 1 sessions already")

    def test_exit_ends_and_refuses_later_ops(self):
        h, out, logs = self.make()
        h.line(b'{"id":1,"op":"connect"}')
        out.wait(lambda o: o.get("re") == 1)
        self.assertTrue(h.line(b'{"id":2,"op":"exit"}'))
        h.line(b'{"id":3,"op":"connect","client":1}')
        self.assertEqual(out.wait(lambda o: o.get("re") == 3)["error"], "driver is exiting")
        h.shutdown()
        self.assertTrue(h.sessions[None].closed.is_set())

    def test_serve_stops_at_exit(self):
        h, out, logs = self.make()
        driverkit.serve(h, [b'{"id":1,"op":"connect"}\n', b'{"id":2,"op":"exit"}\n', b'{"id":3,"op":"connect"}\n'])
        self.assertEqual(sorted(o.get("re") for o in out.sent if "re" in o), [1, 2])  # 3 never read


if __name__ == "__main__":
    unittest.main()

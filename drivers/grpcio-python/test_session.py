"""The session's mapping of grpcio's connectivity and Hello results onto
faultline's states, driven step by step with a fake channel: orders that a
live channel produces only by chance (a Hello answered on a connection
that ended since) are played here on purpose.

    /usr/bin/python3 -m unittest discover -s drivers/grpcio-python -v
"""

import sys
import unittest

sys.dont_write_bytecode = True

import grpc  # noqa: E402

import contract  # noqa: E402
import session  # noqa: E402
from feedtest import check_lifecycle  # noqa: E402

C = grpc.ChannelConnectivity
S = ["grpc://127.0.0.1:7001", "grpc://127.0.0.1:7002"]


class Out:
    def __init__(self):
        self.lines = []

    def send(self, obj):
        self.lines.append(obj)


class RpcError(grpc.RpcError):
    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


class Future:
    def __init__(self):
        self.err, self.res = None, None

    def exception(self):
        return self.err

    def result(self):
        return self.res

    def add_done_callback(self, fn):
        pass


class Channel:
    """What the session touches of a grpc.Channel (and its cygrpc one)."""

    def __init__(self):
        self._channel = self
        self.connect_requests = 0
        self.closed = False
        self.hellos = []

    def check_connectivity_state(self, try_to_connect):
        self.connect_requests += bool(try_to_connect)
        return 0

    def unary_unary(self, method, request_serializer=None, response_deserializer=None):
        ch = self

        class MC:
            def future(self, req, timeout=None, metadata=None):
                f = Future()
                ch.hellos.append((method, req, metadata, f))
                return f
        return MC()

    def close(self):
        self.closed = True


class SessionTest(unittest.TestCase):
    def session(self, **options):
        plan, _ = contract.plan_for(S, options)
        out = Out()
        s = session.Session(out, None, "c0", plan)
        s.channel = Channel()
        s.now = "IDLE"
        s._now = lambda: s.now  # the channel's state "now", as the test says
        s.ready = S[1]
        s._ready_server = lambda: s.ready
        with s.mu:
            s.move(session.CONNECTING, "IDLE")
        s._hello(8.0)  # the first Hello, as connect() sends it
        return s, out

    def states(self, out):
        return [l for l in out.lines if l.get("type") == "state"]

    def tos(self, out):
        return [l["to"] for l in self.states(out)]

    def answer(self, s, result=None, err=None):
        """The Hello in flight completes."""
        _, _, md, f = s.channel.hellos[-1]
        self.assertEqual(md, (("faultline-client", "c0"),))
        f.res, f.err = result, err
        s._on_hello(f, s.hello_at)

    def state(self, s, c):
        if c == C.READY:
            s.now = "READY"
        s._on_state(c)

    def active(self, **options):
        s, out = self.session(**options)
        self.state(s, C.CONNECTING)
        self.state(s, C.READY)
        self.answer(s, "s2/c0#1")
        self.assertEqual(self.tos(out), ["CONNECTING", "CONNECTED_ACTIVE"])
        return s, out

    def test_first_connect(self):
        s, out = self.active()
        a = self.states(out)[1]
        self.assertEqual((a["session"], a["server"], a["native"], a["phase"]), ("s2/c0#1", S[1], "READY (Hello answered)", "connected"))
        self.assertEqual(len(s.channel.hellos), 1)  # READY during the first connect sends no second Hello
        self.assertTrue(s.settled.is_set())

    def test_loss_asks_to_connect(self):
        s, out = self.active()
        self.state(s, C.IDLE)
        self.assertEqual(self.tos(out)[-1], "RECOVERING_RECONNECT")
        rec = self.states(out)[-1]
        self.assertEqual((rec["native"], rec["server"], rec["session"]), ("IDLE", S[1], "s2/c0#1"))
        self.assertEqual(s.channel.connect_requests, 1)
        self.state(s, C.CONNECTING)
        self.state(s, C.TRANSIENT_FAILURE)
        self.assertEqual(self.tos(out)[-1], "RECOVERING_RECONNECT")  # no repeated state
        self.assertTrue(any("TRANSIENT_FAILURE" in l.get("text", "") for l in out.lines))
        s.ready = S[0]
        self.state(s, C.READY)
        self.assertEqual(len(s.channel.hellos), 2)  # a Hello on the new connection
        self.answer(s, "s1/c0#1")
        back = self.states(out)[-1]
        self.assertEqual((back["to"], back["session"], back["server"]), ("CONNECTED_ACTIVE", "s1/c0#1", S[0]))
        check_lifecycle(self, self.states(out))

    def test_idle_connect_off(self):
        s, out = self.active(library={"grpc": {"idle_connect": False}})
        self.state(s, C.IDLE)
        self.assertEqual(self.tos(out)[-1], "RECOVERING_RECONNECT")
        self.assertEqual(s.channel.connect_requests, 0)

    def test_missed_idle(self):
        """The watcher (like subscribe()) may deliver CONNECTING without the IDLE before it
        (it reports the latest state): still a loss."""
        s, out = self.active()
        self.state(s, C.CONNECTING)
        self.assertEqual(self.tos(out)[-1], "RECOVERING_RECONNECT")
        self.assertEqual(self.states(out)[-1]["native"], "CONNECTING")

    def test_late_state_from_before_ready(self):
        """The Hello is answered before the watcher has reported READY (it
        reports late): a CONNECTING it delivers then is from before the
        READY, not a loss, while the channel is READY now. Seen with 320
        clients in one process."""
        s, out = self.session()
        self.state(s, C.CONNECTING)
        s.now = "READY"
        self.answer(s, "s2/c0#1")
        self.assertEqual(self.tos(out), ["CONNECTING", "CONNECTED_ACTIVE"])
        s._on_state(C.CONNECTING)  # late, from before the READY
        self.state(s, C.READY)
        self.assertEqual(self.tos(out), ["CONNECTING", "CONNECTED_ACTIVE"])
        self.assertEqual(len(s.channel.hellos), 1)

    def test_late_state_but_channel_not_ready(self):
        """The same late state when the channel is not READY now: the
        connection the Hello saw has ended, a loss."""
        s, out = self.session()
        self.state(s, C.CONNECTING)
        s.now = "READY"
        self.answer(s, "s2/c0#1")
        s.now = "IDLE"
        s._on_state(C.IDLE)
        self.assertEqual(self.tos(out), ["CONNECTING", "CONNECTED_ACTIVE", "RECOVERING_RECONNECT"])

    def test_stale_hello(self):
        """A Hello answered on a connection that ended since: the server
        did open a session, so CONNECTED_ACTIVE, then RECOVERING at once;
        the channel is asked to connect again."""
        s, out = self.active()
        self.state(s, C.IDLE)
        self.state(s, C.READY)  # Hello 2 sent
        self.state(s, C.IDLE)  # ... and its connection ends
        s.now = "IDLE"
        requests = s.channel.connect_requests
        self.answer(s, "s2/c0#2")
        self.assertEqual(self.tos(out)[-2:], ["CONNECTED_ACTIVE", "RECOVERING_RECONNECT"])
        self.assertEqual(self.states(out)[-2]["session"], "s2/c0#2")
        self.assertEqual(s.channel.connect_requests, requests + 1)
        check_lifecycle(self, self.states(out))

    def test_stale_hello_new_connection_ready(self):
        s, out = self.active()
        self.state(s, C.IDLE)
        self.state(s, C.READY)  # Hello 2 sent
        self.state(s, C.IDLE)
        self.state(s, C.READY)  # a newer connection, while Hello 2 is in flight: no Hello yet
        self.assertEqual(len(s.channel.hellos), 2)
        self.answer(s, "s2/c0#2")
        self.assertEqual(len(s.channel.hellos), 3)  # Hello 3 for the connection that is READY now
        self.answer(s, "s2/c0#3")
        self.assertEqual(self.tos(out)[-3:], ["CONNECTED_ACTIVE", "RECOVERING_RECONNECT", "CONNECTED_ACTIVE"])
        self.assertEqual(self.states(out)[-1]["session"], "s2/c0#3")
        check_lifecycle(self, self.states(out))

    def test_first_hello_fails(self):
        s, out = self.session()
        self.state(s, C.CONNECTING)
        self.state(s, C.TRANSIENT_FAILURE)  # the first pass failed: no state of its own
        self.assertEqual(self.tos(out), ["CONNECTING"])
        self.answer(s, err=RpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:7002: Connection refused"))
        closed = self.states(out)[-1]
        self.assertEqual((closed["to"], closed["reason"], closed["tried"], closed["server"]), ("CLOSED_FAILED", "connection_error", S, S[1]))
        self.assertTrue(s.channel.closed)
        self.assertEqual(s.last_error, "grpcio Hello: UNAVAILABLE: failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:7002: Connection refused")
        self.state(s, C.READY)  # nothing after a close
        self.assertEqual(self.tos(out), ["CONNECTING", "CLOSED_FAILED"])

    def test_hello_refused(self):
        s, out = self.session()
        self.state(s, C.READY)
        self.answer(s, err=RpcError(grpc.StatusCode.UNIMPLEMENTED, "Method not found!"))
        closed = self.states(out)[-1]
        self.assertEqual((closed["to"], closed["reason"]), ("CLOSED_FAILED", "handshake_rejected"))

    def test_reconnect_hello_retried_while_ready(self):
        s, out = self.active()
        self.state(s, C.IDLE)
        self.state(s, C.READY)
        for i in range(session.HELLO_RETRIES + 2):
            self.answer(s, err=RpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))
        self.assertEqual(len(s.channel.hellos), 1 + session.HELLO_RETRIES)  # then it stops
        self.assertEqual(self.tos(out)[-1], "RECOVERING_RECONNECT")
        s.now = "IDLE"
        self.state(s, C.IDLE)
        self.state(s, C.READY)  # a new READY: Hellos again
        self.assertEqual(len(s.channel.hellos), 2 + session.HELLO_RETRIES)

    def test_reconnect_disabled(self):
        s, out = self.active(reconnect={"enabled": False})
        self.state(s, C.TRANSIENT_FAILURE)
        closed = self.states(out)[-1]
        self.assertEqual((closed["to"], closed["reason"]), ("CLOSED_FAILED", "connection_lost"))
        self.assertTrue(s.channel.closed)
        self.assertEqual(s.channel.connect_requests, 0)

    def test_close(self):
        s, out = self.active()
        s.close()
        closed = self.states(out)[-1]
        self.assertEqual((closed["to"], closed["reason"], closed["session"]), ("CLOSED_BY_CLIENT", "closed_by_client", "s2/c0#1"))
        self.assertTrue(s.channel.closed)
        self.assertEqual(s.send("x"), "not connected")
        self.assertEqual(s.subscribe("t"), "not connected")
        check_lifecycle(self, self.states(out))

    def test_legal(self):
        self.assertTrue(session.legal(None, session.CONNECTING))
        self.assertFalse(session.legal(None, session.ACTIVE))
        self.assertFalse(session.legal(session.CONNECTING, session.RECOVERING))
        self.assertTrue(session.legal(session.RECOVERING, session.CONNECTING))
        self.assertFalse(session.legal(session.FAILED, session.CONNECTING))


if __name__ == "__main__":
    unittest.main()

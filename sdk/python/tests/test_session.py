"""The session state machine against scripted servers over real loopback
WebSockets: recovery both ways, loss detection, the overall timeout, the
opt-out, deliberate closes, cascading and failover."""

import asyncio
import json
import unittest

from faultline_py import errors as E
from faultline_py.backoff import Backoff
from faultline_py.options import Options
from faultline_py.session import Session

from .fake import FakeServer, bounded, closed_port, server_frame, until


class Recorder:
    def __init__(self):
        self.states, self.messages, self.errors = [], [], []

    def callbacks(self):
        return {"on_state": self.states.append, "on_message": lambda t, s, d: self.messages.append((t, s)),
                "on_error": lambda e: self.errors.append(str(e))}

    def path(self):
        return [c["to"] for c in self.states]


def welcome(peer, session="S1", ping_ms=0):
    peer.send({"t": "welcome", "session": session, "token": "tok", "ping_ms": ping_ms})


class SessionTest(unittest.IsolatedAsyncioTestCase):
    async def serve(self, handler):
        srv = await FakeServer(handler).start()
        self.addAsyncCleanup(srv.stop)
        return srv

    async def open(self, servers, **kw):
        rec = Recorder()
        kw.setdefault("strategy", Backoff(initial_ms=20, multiplier=2, max_ms=100))
        s = Session(Options(servers=servers, **kw), **rec.callbacks())
        self.addAsyncCleanup(lambda: bounded(s.close()))
        return s, rec

    async def test_connect_subscribe_send_close(self):
        got = []

        async def handler(peer):
            await peer.handshake()
            got.append(await peer.recv())
            welcome(peer)
            while (f := await peer.recv()) is not None:
                got.append(f)
                if f["t"] == "close":
                    await peer.close_ws()
                    return

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url], reconnect_timeout_ms=3000)
        await bounded(s.open())
        s.subscribe("prices")
        s.send({"a": 1})
        await bounded(s.close())
        self.assertEqual(got[0], {"t": "hello", "principal": "faultline", "credentials": "faultline", "retention_ms": 3000})
        self.assertEqual(got[1:], [{"t": "sub", "topic": "prices"}, {"t": "send", "n": 1, "data": {"a": 1}}, {"t": "close"}])
        await until(lambda: len(rec.states) == 3, what="the close's state event")
        self.assertEqual(rec.states[0], {"from": "", "to": E.CONNECTING, "server": srv.url, "session": "", "reason": ""})
        self.assertEqual(rec.path(), [E.CONNECTING, E.CONNECTED_ACTIVE, E.CLOSED_BY_CLIENT])
        self.assertEqual(rec.states[2]["reason"], E.R_CLOSED_BY_CLIENT)
        with self.assertRaisesRegex(RuntimeError, "session closed"):
            s.send(1)

    async def test_recovery_resends_unacked_and_drops_replayed_duplicates(self):
        frames = []

        async def handler(peer):
            await peer.handshake()
            hello = await peer.recv()
            frames.append(hello)
            if peer.index == 0:
                welcome(peer)
                for _ in range(3):  # sub, send 1, send 2
                    frames.append(await peer.recv())
                peer.send({"t": "ack", "n": 1})
                peer.send({"t": "msg", "topic": "t", "seq": 1})
                peer.send({"t": "msg", "topic": "t", "seq": 2})
                await asyncio.sleep(0.05)
                peer.abort()
                return
            # The resume, answered in one write with the replay behind it.
            frames_out = [{"t": "resumed", "session": "S1", "received": 1}]
            frames_out += [{"t": "msg", "topic": "t", "seq": seq} for seq in (2, 3, 4)]
            peer.raw(b"".join(server_frame(0x1, json.dumps(f)) for f in frames_out))
            while (f := await peer.recv()) is not None and f["t"] != "close":
                frames.append(f)

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url])
        await bounded(s.open())
        s.subscribe("t")
        s.send("m1")
        s.send("m2")
        await until(lambda: len(rec.messages) == 4, what="four messages")
        await until(lambda: len(frames) >= 6, what="the resend")
        self.assertEqual(rec.path(), [E.CONNECTING, E.CONNECTED_ACTIVE, E.RECOVERING_RECONNECT, E.CONNECTED_ACTIVE])
        self.assertEqual(rec.messages, [("t", 1), ("t", 2), ("t", 3), ("t", 4)])  # each once, in order
        resume = frames[4]
        self.assertEqual((resume["session"], resume["token"], resume["last"]), ("S1", "tok", {"t": 2}))
        self.assertEqual(frames[5], {"t": "send", "n": 2, "data": "m2"})  # only what the server lacked
        await asyncio.sleep(0.05)
        self.assertEqual(len(frames), 6, "sent exactly once")
        self.assertEqual(rec.states[3]["session"], "S1")

    async def test_gap_closes_lost_messages(self):
        async def handler(peer):
            await peer.handshake()
            await peer.recv()
            welcome(peer)
            peer.send({"t": "msg", "topic": "t", "seq": 1})
            peer.send({"t": "msg", "topic": "t", "seq": 3})
            await peer.recv()

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url])
        await bounded(s.open())
        await until(lambda: E.is_closed(s.state), what="the close")
        self.assertEqual((s.state, s.err.reason), (E.CLOSED_FAILED, E.R_LOST_MESSAGES))
        self.assertEqual(rec.messages, [("t", 1)])
        self.assertIn("gap on 't': seq 3 after 1", str(s.err))

    async def test_unknown_session_closes_instead_of_looping(self):
        async def handler(peer):
            await peer.handshake()
            await peer.recv()
            if peer.index == 0:
                welcome(peer)
                await asyncio.sleep(0.02)
                peer.abort()
            else:
                peer.send({"t": "refused", "reason": "unknown_session"})
                await peer.recv()

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url])
        await bounded(s.open())
        await until(lambda: E.is_closed(s.state), what="the close")
        self.assertEqual((s.state, s.err.reason), (E.CLOSED_FAILED, E.R_UNKNOWN_SESSION))
        self.assertEqual(len(srv.peers), 2)

    async def test_opt_out_closes_at_once_without_an_attempt(self):
        hellos = []

        async def handler(peer):
            await peer.handshake()
            hellos.append(await peer.recv())
            welcome(peer)
            await asyncio.sleep(0.02)
            peer.abort()

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url], reconnect=False)
        await bounded(s.open())
        await until(lambda: E.is_closed(s.state), what="the close")
        await asyncio.sleep(0.1)
        self.assertEqual(rec.path(), [E.CONNECTING, E.CONNECTED_ACTIVE, E.CLOSED_FAILED])
        self.assertEqual(s.err.reason, E.R_CONNECTION_LOST)
        self.assertTrue(hellos[0]["no_reconnect"])
        self.assertEqual(len(srv.peers), 1)

    async def test_silence_beyond_twice_the_ping_is_a_loss(self):
        async def handler(peer):
            await peer.handshake()
            await peer.recv()
            welcome(peer, ping_ms=40)
            await peer.recv()  # then silence: never a ping

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url])
        await bounded(s.open())
        t0 = asyncio.get_running_loop().time()
        await until(lambda: E.RECOVERING_RECONNECT in rec.path(), what="the loss")
        took = asyncio.get_running_loop().time() - t0
        self.assertGreaterEqual(took, 0.075)
        self.assertLess(took, 0.5)
        self.assertTrue(any("idle" in e for e in rec.errors), rec.errors)

    async def test_pings_are_answered_and_messages_acked(self):
        got = []

        async def handler(peer):
            await peer.handshake()
            await peer.recv()
            welcome(peer, ping_ms=1000)
            await peer.recv()  # sub
            peer.send({"t": "msg", "topic": "t", "seq": 1})
            peer.send({"t": "ping"})
            got.append(await peer.recv())
            got.append(await peer.recv())

        srv = await self.serve(handler)
        s, _ = await self.open([srv.url])
        await bounded(s.open())
        s.subscribe("t")
        await until(lambda: len(got) == 2, what="pong and ack")
        self.assertEqual(got, [{"t": "pong"}, {"t": "ack", "topic": "t", "seq": 1}])

    async def test_overall_timeout_ends_the_reconnection(self):
        async def handler(peer):
            if peer.index > 0:
                peer.abort()  # every attempt reset
                return
            await peer.handshake()
            await peer.recv()
            welcome(peer)
            await asyncio.sleep(0.02)
            peer.abort()

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url], reconnect_timeout_ms=300, strategy=Backoff(initial_ms=40, fixed=True))
        await bounded(s.open())
        await until(lambda: E.RECOVERING_RECONNECT in rec.path(), what="the loss")
        t0 = asyncio.get_running_loop().time()
        await until(lambda: E.is_closed(s.state), what="the timeout")
        took = asyncio.get_running_loop().time() - t0
        self.assertEqual(s.err.reason, E.R_RECONNECT_TIMEOUT)
        self.assertGreater(took, 0.25)
        self.assertLess(took, 0.6)
        n = len(srv.peers)
        self.assertGreaterEqual(n - 1, 4)  # ~300ms / 40ms attempts
        await asyncio.sleep(0.15)
        self.assertEqual(len(srv.peers), n, "no attempt after the timeout")

    async def test_strategy_abort_closes_reconnect_aborted(self):
        async def handler(peer):
            if peer.index > 0:
                peer.abort()
                return
            await peer.handshake()
            await peer.recv()
            welcome(peer)
            await asyncio.sleep(0.02)
            peer.abort()

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url], strategy=Backoff(initial_ms=10, max_attempts=2))
        await bounded(s.open())
        await until(lambda: E.is_closed(s.state), what="the abort")
        self.assertEqual(s.err.reason, E.R_RECONNECT_ABORTED)
        self.assertEqual(len(srv.peers), 3)

    async def test_server_close_is_closed_by_server(self):
        async def handler(peer):
            await peer.handshake()
            await peer.recv()
            welcome(peer)
            peer.send({"t": "closed", "reason": "closed_by_server"})
            await peer.recv()

        srv = await self.serve(handler)
        s, rec = await self.open([srv.url], failover=True, cascading=True)
        await bounded(s.open())
        await until(lambda: E.is_closed(s.state), what="the close")
        self.assertEqual(rec.path(), [E.CONNECTING, E.CONNECTED_ACTIVE, E.CLOSED_BY_SERVER])
        await asyncio.sleep(0.1)
        self.assertEqual(len(srv.peers), 1, "no reconnection, no failover")

    async def test_cascade_walks_the_list_in_order(self):
        async def handler(peer):
            await peer.handshake()
            await peer.recv()
            welcome(peer)
            await peer.recv()

        dead = await closed_port()
        srv = await self.serve(handler)
        s, rec = await self.open([dead, srv.url], cascading=True)
        await bounded(s.open())
        self.assertEqual(rec.path(), [E.CONNECTING, E.CONNECTED_ACTIVE])
        self.assertEqual(rec.states[1]["server"], srv.url)
        self.assertTrue(rec.errors and rec.errors[0].startswith(f"attempt on {dead} failed"), rec.errors)

    async def test_without_cascading_only_the_first_server(self):
        dead = await closed_port()
        srv = await self.serve(lambda peer: asyncio.sleep(0))
        s, rec = await self.open([dead, srv.url])
        with self.assertRaises(E.CloseError) as cm:
            await bounded(s.open())
        self.assertEqual((cm.exception.reason, cm.exception.tried), (E.R_CONNECTION_ERROR, [dead]))
        self.assertEqual(rec.states[-1]["tried"], [dead])
        self.assertEqual(srv.peers, [])

    async def test_all_failing_names_every_server(self):
        a, b = await closed_port(), await closed_port()
        s, rec = await self.open([a, b], cascading=True)
        with self.assertRaises(E.CloseError) as cm:
            await bounded(s.open())
        self.assertEqual(cm.exception.tried, [a, b])
        self.assertIn(f"after trying 2 server(s): {a}, {b}", str(cm.exception))
        self.assertEqual(rec.path(), [E.CONNECTING, E.CLOSED_FAILED])

    async def test_failover_opens_a_new_session_on_the_next_server(self):
        async def first(peer):
            await peer.handshake()
            await peer.recv()
            welcome(peer, session="OLD")
            await peer.recv()  # the send
            peer.abort()

        hellos = []

        async def second(peer):
            await peer.handshake()
            hellos.append(await peer.recv())
            welcome(peer, session="NEW")
            await peer.recv()

        s1, s2 = await self.serve(first), await self.serve(second)
        s, rec = await self.open([s1.url, s2.url], reconnect=False, failover=True)
        await bounded(s.open())
        s.send("unacked")
        await until(lambda: rec.path()[-1:] == [E.CONNECTED_ACTIVE] and len(rec.states) == 4, what="the failover")
        self.assertEqual(rec.path(), [E.CONNECTING, E.CONNECTED_ACTIVE, E.CONNECTING, E.CONNECTED_ACTIVE])
        self.assertEqual((rec.states[2]["reason"], rec.states[2]["session"]), (E.R_CONNECTION_LOST, "OLD"))
        self.assertEqual((rec.states[3]["server"], rec.states[3]["session"]), (s2.url, "NEW"))
        self.assertNotIn("session", hellos[0])  # a new session: nothing carried over
        self.assertTrue(any("discarded by failover: 1 send(s)" in e for e in rec.errors), rec.errors)


if __name__ == "__main__":
    unittest.main()

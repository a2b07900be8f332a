"""One attempt (dial) and one connection (Conn): how answers are told apart,
the attempt's bound, cancelling, and the hand-over of frames behind the answer."""

import asyncio
import json
import unittest

from faultline_py.transport import Conn, dial

from .fake import FakeServer, bounded, server_frame, until


class DialTest(unittest.IsolatedAsyncioTestCase):
    async def serve(self, handler):
        srv = await FakeServer(handler).start()
        self.addAsyncCleanup(srv.stop)
        return srv

    async def attempt(self, url, timeout=1.0):
        got = asyncio.get_running_loop().create_future()
        dial(url, '{"t":"hello"}', timeout, got.set_result)
        return await asyncio.wait_for(got, 3)

    async def test_answers_are_told_apart(self):
        replies = {
            "welcome": server_frame(1, '{"t":"welcome","session":"S"}'),
            "refused": server_frame(1, '{"t":"refused","reason":"access_denied"}'),
            "garbage": server_frame(1, "{not json"),
            "binary": server_frame(2, b'{"t":"welcome","session":"S"}'),
        }

        async def handler(peer):
            await peer.handshake()
            hello = await peer.recv()
            peer.raw(replies[hello["t"] == "hello" and peer.request.split(b" ")[1].decode().strip("/")])
            await peer.recv()

        srv = await self.serve(handler)
        ok = await self.attempt(srv.url + "welcome")
        self.assertEqual((ok.frame, ok.err, ok.rejected), ({"t": "welcome", "session": "S"}, None, False))
        self.assertIsNotNone(ok.ws)
        ok.ws.terminate()
        refused = await self.attempt(srv.url + "refused")
        self.assertEqual((refused.frame["reason"], refused.ws, refused.rejected), ("access_denied", None, False))
        for garbage in ("garbage", "binary"):
            with self.subTest(garbage=garbage):
                bad = await self.attempt(srv.url + garbage)
                self.assertTrue(bad.rejected)  # the server answered, with garbage: handshake_rejected
                self.assertIn("bad frame", str(bad.err))

    async def test_failures_before_an_answer_are_not_rejections(self):
        async def handler(peer):
            if b"reset" in await peer.reader.readuntil(b"\r\n\r\n"):
                peer.abort()
            else:
                peer.raw(b"HTTP/1.1 404 Not Found\r\n\r\n")
                await peer.reader.read()

        srv = await self.serve(handler)
        for path, why in (("reset", "dial"), ("http", "unexpected response status 404")):
            with self.subTest(path=path):
                ans = await self.attempt(srv.url + path)
                self.assertFalse(ans.rejected)  # as Go: connection_error, not handshake_rejected
                self.assertIn(why, str(ans.err))

    async def test_a_silent_server_times_the_attempt_out(self):
        async def handler(peer):
            await peer.handshake()
            await peer.recv()  # the hello, never answered
            await peer.recv()  # until the client gives up

        srv = await self.serve(handler)
        t0 = asyncio.get_running_loop().time()
        ans = await self.attempt(srv.url, timeout=0.15)
        took = asyncio.get_running_loop().time() - t0
        self.assertIn("timed out after 150ms", str(ans.err))
        self.assertGreaterEqual(took, 0.14)
        self.assertLess(took, 0.6)

    async def test_cancel_drops_the_connection_and_never_answers(self):
        ended = asyncio.Event()

        async def handler(peer):
            await peer.reader.readuntil(b"\r\n\r\n")  # the upgrade request, never answered
            await peer.reader.read()  # until the client drops the connection
            ended.set()

        srv = await self.serve(handler)
        called = []
        a = dial(srv.url, '{"t":"hello"}', 1.0, called.append)
        await until(lambda: srv.peers, what="the connection")
        a.cancel()
        await asyncio.wait_for(ended.wait(), 2)
        await asyncio.sleep(0.05)
        self.assertEqual(called, [])

    async def test_frames_behind_the_answer_wait_for_the_connection(self):
        async def handler(peer):
            await peer.handshake()
            await peer.recv()
            out = [{"t": "resumed", "session": "S", "received": 0}, {"t": "msg", "topic": "t", "seq": 5},
                   {"t": "msg", "topic": "t", "seq": 6}]
            peer.raw(b"".join(server_frame(1, json.dumps(f)) for f in out))
            await peer.recv()

        srv = await self.serve(handler)
        ans = await self.attempt(srv.url)
        self.assertEqual(ans.frame["t"], "resumed")
        await asyncio.sleep(0.05)  # the replay has arrived meanwhile
        seqs = []
        c = Conn(ans.ws, srv.url, 0, lambda conn, f: seqs.append(f["seq"]))
        c.start()
        self.assertEqual(seqs, [5, 6])
        await bounded(c.finish(0.2))


if __name__ == "__main__":
    unittest.main()

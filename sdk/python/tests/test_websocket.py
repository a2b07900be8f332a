"""The WebSocket client: framing (masking, lengths, fragments), bad frames
failing with a clear error, and the live handshake, ping/pong, closing
handshake and inbox against a raw asyncio server."""

import asyncio
import struct
import unittest

from faultline_py.websocket import (OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, FrameParser, WebSocketError,
                                    apply_mask, encode_frame, open_websocket)

from .fake import FakeServer, bounded, server_frame, until


class MaskingTest(unittest.TestCase):
    def test_rfc6455_example(self):
        # RFC 6455 5.7: a masked "Hello" with key 37 fa 21 3d.
        got = encode_frame(OP_TEXT, b"Hello", mask=bytes.fromhex("37fa213d"))
        self.assertEqual(got.hex(), "818537fa213d7f9f4d5158")

    def test_mask_is_its_own_inverse(self):
        data = bytes(range(256)) * 3 + b"tail"
        mask = b"\x01\x80\xfe\x7f"
        self.assertNotEqual(apply_mask(data, mask), data)
        self.assertEqual(apply_mask(apply_mask(data, mask), mask), data)
        self.assertEqual(apply_mask(b"", mask), b"")

    def test_length_forms_and_random_mask(self):
        for n, head, size_len in ((125, 0x80 | 125, 0), (126, 0x80 | 126, 2), (65535, 0x80 | 126, 2), (65536, 0x80 | 127, 8)):
            with self.subTest(n=n):
                f = encode_frame(OP_TEXT, b"a" * n)
                self.assertEqual(f[0], 0x81)  # FIN, text: never fragmented
                self.assertEqual(f[1], head)  # always masked
                if size_len:
                    got = struct.unpack("!H" if size_len == 2 else "!Q", f[2:2 + size_len])[0]
                    self.assertEqual(got, n)
                mask = f[2 + size_len:6 + size_len]
                self.assertEqual(apply_mask(f[6 + size_len:], mask), b"a" * n)
        self.assertNotEqual(encode_frame(OP_TEXT, b"x")[2:6], encode_frame(OP_TEXT, b"x")[2:6])


class ParserTest(unittest.TestCase):
    def test_single_frames(self):
        p = FrameParser()
        self.assertEqual(p.feed(bytes.fromhex("810548656c6c6f")), [(OP_TEXT, "Hello")])
        self.assertEqual(p.feed(server_frame(OP_BINARY, b"\x00\xff")), [(OP_BINARY, b"\x00\xff")])
        big = "é" * 40000  # 80000 bytes: the 64-bit length form
        self.assertEqual(p.feed(server_frame(OP_TEXT, big)), [(OP_TEXT, big)])

    def test_fragmented_message_with_a_ping_between(self):
        # RFC 6455 5.7: "Hel" + "lo", here with a ping between the fragments.
        p = FrameParser()
        data = bytes.fromhex("010348656c") + server_frame(OP_PING, b"hi") + bytes.fromhex("80026c6f")
        self.assertEqual(p.feed(data), [(OP_PING, b"hi"), (OP_TEXT, "Hello")])

    def test_byte_by_byte(self):
        p = FrameParser()
        data = server_frame(OP_TEXT, "x" * 300) + server_frame(OP_CLOSE, struct.pack("!H", 1000))
        out = []
        for i in range(len(data)):
            out += p.feed(data[i:i + 1])
        self.assertEqual(out, [(OP_TEXT, "x" * 300), (OP_CLOSE, b"\x03\xe8")])

    def test_utf8_split_across_fragments(self):
        e = "é".encode()
        p = FrameParser()
        self.assertEqual(p.feed(server_frame(OP_TEXT, e[:1], fin=False) + server_frame(0, e[1:])), [(OP_TEXT, "é")])

    def test_bad_frames_fail_with_why(self):
        cases = [
            (server_frame(OP_TEXT, "x", masked=True), "masked frame from the server", 1002),
            (server_frame(OP_TEXT, "x", rsv=0x40), "reserved bits set", 1002),
            (server_frame(0x3, "x"), "unknown opcode 3", 1002),
            (server_frame(0xB, "x"), "unknown control opcode 11", 1002),
            (server_frame(0x0, "x"), "continuation without a message", 1002),
            (server_frame(OP_TEXT, "a", fin=False) + server_frame(OP_TEXT, "b"), "new message inside a fragmented one", 1002),
            (server_frame(OP_PING, "x", fin=False), "fragmented or oversized control frame", 1002),
            (server_frame(OP_PING, "x" * 126), "fragmented or oversized control frame", 1002),
            (server_frame(OP_TEXT, b"\xff\xfe"), "text message is not UTF-8", 1007),
            (bytes([0x82, 127]) + struct.pack("!Q", 1 << 40), "exceeds", 1009),
        ]
        for data, why, code in cases:
            with self.subTest(why=why):
                with self.assertRaises(WebSocketError) as cm:
                    FrameParser().feed(data)
                self.assertIn(why, str(cm.exception))
                self.assertEqual(cm.exception.code, code)

    def test_message_bound_counts_fragments(self):
        p = FrameParser(max_message=10)
        p.feed(server_frame(OP_TEXT, "x" * 6, fin=False))
        with self.assertRaisesRegex(WebSocketError, "message exceeds 10 bytes"):
            p.feed(server_frame(0, "x" * 6))


class LiveTest(unittest.IsolatedAsyncioTestCase):
    async def serve(self, handler):
        srv = await FakeServer(handler).start()
        self.addAsyncCleanup(srv.stop)
        return srv

    async def test_handshake_text_ping_and_closing_handshake(self):
        seen = []

        async def handler(peer):
            await peer.handshake()
            peer.raw(server_frame(OP_TEXT, "welcome") + server_frame(OP_PING, b"p1"))
            while (fr := await peer.read_frame()) is not None:
                seen.append(fr)
                if fr[0] == OP_TEXT:
                    seen.append(await peer.close_ws(1000))

        srv = await self.serve(handler)
        ws = await bounded(open_websocket(srv.url + "path?q=1"))
        got, ended = [], []
        ws.listen(got.append, lambda *a: ended.append(a))
        await until(lambda: got, what="the first message")
        ws.send_text("hello")
        await until(lambda: ended, what="the close")
        self.assertEqual(got, ["welcome"])
        self.assertEqual(ended, [(1000, "", None)])
        self.assertIn(b"GET /path?q=1 HTTP/1.1\r\n", srv.peers[0].request)
        self.assertIn(b"Sec-WebSocket-Version: 13", srv.peers[0].request)
        self.assertEqual(seen[0], (OP_PONG, b"p1", True))  # a ping is answered with its payload, masked
        self.assertEqual(seen[1], (OP_TEXT, b"hello", True))
        self.assertEqual(seen[2], (OP_CLOSE, struct.pack("!H", 1000), True))  # the close answered

    async def test_bad_handshakes_are_refused(self):
        bad = {
            b"HTTP/1.1 200 OK\r\n\r\n": "unexpected response status 200",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: AAAA\r\n\r\n": "wrong Sec-WebSocket-Accept",
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n": "lacks Upgrade: websocket",
            b"SSH-2.0-OpenSSH\r\n\r\n": "not an HTTP/1.1 response",
        }
        for response, why in bad.items():
            with self.subTest(why=why):
                async def handler(peer, response=response):
                    await peer.handshake(response)
                    await peer.read_frame()

                srv = await self.serve(handler)
                with self.assertRaisesRegex(WebSocketError, why):
                    await asyncio.wait_for(open_websocket(srv.url), 2)

    async def test_refused_and_reset_are_os_errors(self):
        async def reset(peer):
            peer.abort()

        srv = await self.serve(reset)
        with self.assertRaises(OSError):
            await asyncio.wait_for(open_websocket(srv.url), 2)
        with self.assertRaisesRegex(ValueError, "only ws:"):
            await open_websocket("wss://127.0.0.1:1/")

    async def test_bad_frame_fails_the_connection(self):
        async def handler(peer):
            await peer.handshake()
            peer.raw(server_frame(OP_TEXT, "ok") + server_frame(OP_TEXT, "x", masked=True))
            await peer.read_frame()

        srv = await self.serve(handler)
        ws = await bounded(open_websocket(srv.url))
        got, ended = [], []
        ws.listen(got.append, lambda *a: ended.append(a))
        await until(lambda: ended, what="the failure")
        self.assertEqual(got, [])  # the whole read failed: nothing of it is trusted
        code, _, err = ended[0]
        self.assertEqual(code, 1006)
        self.assertIn("masked frame from the server", str(err))

    async def test_inbox_keeps_frames_for_the_next_listener(self):
        async def handler(peer):
            await peer.handshake()
            peer.raw(server_frame(OP_TEXT, "a") + server_frame(OP_TEXT, "b") + server_frame(OP_TEXT, "c"))
            await peer.read_frame()

        srv = await self.serve(handler)
        ws = await bounded(open_websocket(srv.url))
        first, rest = [], []

        def take_one(m):
            first.append(m)
            ws.listen(None, None)  # what follows waits in the inbox

        ws.listen(take_one, lambda *a: None)
        await until(lambda: first, what="the first message")
        await asyncio.sleep(0.02)
        self.assertEqual(first, ["a"])
        ws.listen(rest.append, lambda *a: None)
        self.assertEqual(rest, ["b", "c"])  # handed over at once, in order
        ws.terminate()

    async def test_terminate_is_quiet_and_immediate(self):
        closed = asyncio.Event()

        async def handler(peer):
            await peer.handshake()
            await peer.read_frame()
            closed.set()

        srv = await self.serve(handler)
        ws = await bounded(open_websocket(srv.url))
        ended = []
        ws.listen(lambda m: None, lambda *a: ended.append(a))
        ws.terminate()
        await asyncio.wait_for(closed.wait(), 2)
        await asyncio.sleep(0.01)
        self.assertEqual(ended, [])
        ws.send_text("ignored")  # sends after the end do nothing


if __name__ == "__main__":
    unittest.main()

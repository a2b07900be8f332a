"""Test helpers: a scripted WebSocket server over asyncio (the server side of
RFC 6455, just enough for the tests) that speaks the session protocol's
frames as each test's handler dictates. Not a test module: no test_ prefix."""

import asyncio
import base64
import hashlib
import json
import struct

from faultline_py.websocket import GUID, apply_mask


def server_frame(op, payload, fin=True, masked=False, rsv=0):
    """One frame as a server writes it (unmasked unless asked)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    b0 = (0x80 if fin else 0) | rsv | op
    m = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    return head + (b"\0\0\0\0" if masked else b"") + payload


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


class Peer:
    """The server's side of one accepted connection."""

    def __init__(self, reader, writer, index):
        self.reader, self.writer, self.index = reader, writer, index
        self.request = b""

    async def handshake(self, response=None):
        """Read the upgrade request and answer it (the right 101 by default)."""
        self.request = await self.reader.readuntil(b"\r\n\r\n")
        key = next(ln.split(b":", 1)[1].strip() for ln in self.request.split(b"\r\n")
                   if ln.lower().startswith(b"sec-websocket-key:"))
        if response is None:
            response = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        b"Sec-WebSocket-Accept: " + accept_for(key) + b"\r\n\r\n")
        self.writer.write(response)

    async def read_frame(self):
        """The client's next frame as (opcode, unmasked payload, was_masked), or None at EOF."""
        try:
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            mask = await self.reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
            payload = apply_mask(await self.reader.readexactly(n), mask)
            return b0 & 0x0F, payload, bool(b1 & 0x80)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def recv(self):
        """The client's next session frame (a dict), or None once it closed."""
        while True:
            fr = await self.read_frame()
            if fr is None or fr[0] == 0x8:
                return None
            if fr[0] == 0x1:
                return json.loads(fr[1])

    def send(self, frame):
        self.writer.write(server_frame(0x1, json.dumps(frame)))

    def raw(self, data):
        self.writer.write(data)

    def abort(self):
        self.writer.transport.abort()

    async def close_ws(self, code=1000):
        """The closing handshake from the server's side; returns the client's
        answering close frame (None if it never came)."""
        self.writer.write(server_frame(0x8, struct.pack("!H", code)))
        while (fr := await self.read_frame()) is not None and fr[0] != 0x8:
            pass
        self.writer.close()
        return fr


class FakeServer:
    """Calls `await handler(peer)` for each connection, in accept order, and
    drops the connection when the handler returns."""

    def __init__(self, handler):
        self.handler = handler
        self.peers = []
        self._server = None

    async def start(self):
        self._server = await asyncio.start_server(self._on_conn, "127.0.0.1", 0)
        return self

    @property
    def url(self):
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/"

    async def _on_conn(self, reader, writer):
        peer = Peer(reader, writer, len(self.peers))
        self.peers.append(peer)
        try:
            await self.handler(peer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            peer.abort()  # a handler that returned is done with its connection

    async def stop(self):
        for p in self.peers:
            p.abort()
        self._server.close()


async def closed_port():
    """A loopback URL nobody listens on (a port just released)."""
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()
    return f"ws://127.0.0.1:{port}/"


def bounded(awaitable, seconds=5.0):
    """awaitable with a deadline: a test that would hang fails instead."""
    return asyncio.wait_for(awaitable, seconds)


async def until(cond, timeout=3.0, what="condition"):
    """Wait for cond() to hold: every wait in the tests has a deadline."""
    try:
        async with asyncio.timeout(timeout):
            while not cond():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None

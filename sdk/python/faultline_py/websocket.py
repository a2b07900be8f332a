"""A WebSocket client (RFC 6455, client side) over asyncio, standard library only.

What the engine needs and nothing more: the opening handshake over plain
`ws:` (no TLS, extensions or subprotocols), masked unfragmented text frames
out, text/binary messages in (fragments reassembled), ping answered with
pong, the closing handshake, and terminate() to drop the TCP connection at
once. A loss or a timed-out attempt must drop the connection at once and
make no other: a closing handshake would wait on a blackholed peer until the
link heals.

Incoming messages are delivered by callback, synchronously from the
transport's data_received, one by one, each to the listener set at that
moment. While no listener is set they wait in an inbox: the transport can
hand a connection from the attempt (which reads only the server's first
frame) to the session without losing a frame that arrived right behind it
(a replayed msg right behind `resumed`).
"""

import asyncio
import base64
import collections
import hashlib
import os
import struct
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 16 << 10  # bound on the 101 response's head
MAX_MESSAGE = 16 << 20  # bound on one message (wire frames are far smaller)

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

CONNECTING, OPEN, CLOSING, CLOSED = "CONNECTING", "OPEN", "CLOSING", "CLOSED"


class WebSocketError(Exception):
    """A failed handshake or a protocol violation by the server. `code` is the
    close code sent for it (1002 protocol error, 1007 bad UTF-8, 1009 too big)."""

    def __init__(self, why, code=1002):
        super().__init__(why)
        self.code = code


def apply_mask(data, mask):
    """XOR data with the 4-byte mask repeated (RFC 6455 5.3). One big-integer
    XOR instead of a Python loop per byte."""
    n = len(data)
    if n == 0:
        return b""
    key = (bytes(mask) * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def encode_frame(opcode, payload, mask=None):
    """One client frame: FIN set (we never fragment), masked with `mask`
    (4 random bytes when None), the length in its shortest form."""
    if mask is None:
        mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + bytes(mask) + apply_mask(payload, mask)


class FrameParser:
    """Incremental parser of the frames a server sends. feed() returns what
    became complete: (OP_TEXT, str) and (OP_BINARY, bytes) for whole messages,
    fragments reassembled, and control frames (OP_CLOSE, OP_PING, OP_PONG,
    bytes) as they come, in order. A frame that breaks the RFC raises
    WebSocketError; the parser is then of no further use."""

    def __init__(self, max_message=MAX_MESSAGE):
        self.max_message = max_message
        self._buf = bytearray()
        self._parts = []
        self._op = 0  # opcode of the message being reassembled, 0 if none
        self._size = 0

    def feed(self, data):
        self._buf += data
        out = []
        while True:
            frame = self._next()
            if frame is None:
                return out
            fin, op, payload = frame
            if op >= 0x8:
                if not fin or len(payload) > 125:
                    raise WebSocketError("fragmented or oversized control frame")
                if op not in (OP_CLOSE, OP_PING, OP_PONG):
                    raise WebSocketError(f"unknown control opcode {op}")
                out.append((op, payload))
                continue
            if op == OP_CONT:
                if self._op == 0:
                    raise WebSocketError("continuation without a message")
            elif op in (OP_TEXT, OP_BINARY):
                if self._op != 0:
                    raise WebSocketError("new message inside a fragmented one")
                self._op = op
            else:
                raise WebSocketError(f"unknown opcode {op}")
            self._size += len(payload)
            if self._size > self.max_message:
                raise WebSocketError(f"message exceeds {self.max_message} bytes", 1009)
            self._parts.append(payload)
            if not fin:
                continue
            whole, kind = b"".join(self._parts), self._op
            self._parts, self._op, self._size = [], 0, 0
            if kind == OP_TEXT:
                try:
                    out.append((OP_TEXT, whole.decode("utf-8")))
                except UnicodeDecodeError:
                    raise WebSocketError("text message is not UTF-8", 1007) from None
            else:
                out.append((OP_BINARY, whole))

    def _next(self):
        """The next complete frame as (fin, opcode, payload), or None."""
        b = self._buf
        if len(b) < 2:
            return None
        if b[0] & 0x70:
            raise WebSocketError("reserved bits set (no extension was agreed)")
        if b[1] & 0x80:
            raise WebSocketError("masked frame from the server")
        size, off = b[1] & 0x7F, 2
        if size == 126:
            if len(b) < 4:
                return None
            size, off = struct.unpack_from("!H", b, 2)[0], 4
        elif size == 127:
            if len(b) < 10:
                return None
            size, off = struct.unpack_from("!Q", b, 2)[0], 10
        if size > self.max_message:
            raise WebSocketError(f"frame of {size} bytes exceeds {self.max_message}", 1009)
        if len(b) < off + size:
            return None
        fin, op = bool(b[0] & 0x80), b[0] & 0x0F
        payload = bytes(b[off:off + size])
        del b[:off + size]
        return fin, op, payload


class WebSocket(asyncio.Protocol):
    """One client connection: WebSocket(url, loop), on_open and listen() set,
    then loop.create_connection(lambda: ws, ws.host, ws.port) (or
    open_websocket(url), which does all that and waits for the handshake).

    on_open()                     called once the server's 101 checked out
    listen(on_message, on_close)  on_message(data) gets each message (str for
                                  text, bytes for binary); on_close(code,
                                  reason, error) once at the end (error None
                                  after a clean closing handshake)
    send_text(text)               one masked text frame
    close(code)                   start the closing handshake
    terminate()                   drop the TCP connection at once, report nothing more
    """

    def __init__(self, url, loop):
        u = urlsplit(url)
        if u.scheme != "ws":
            raise ValueError(f"unsupported URL scheme {u.scheme!r} (only ws:)")
        if not u.hostname:
            raise ValueError(f"no host in {url!r}")
        self.url = url
        self.host = u.hostname
        self.port = u.port or 80
        self._path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        self._netloc = u.netloc
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._loop = loop
        self.on_open = None
        self.state = CONNECTING
        self._transport = None
        self._head = bytearray()
        self._parser = FrameParser()
        self._inbox = collections.deque()  # ("message", data) / ("close", args) awaiting a listener
        self._on_message = None
        self._on_close = None
        self._error = None  # why the connection failed
        self._close_args = None  # (code, reason) of the server's close frame
        self._close_sent = False
        self._done = False  # the end was reported, or terminate(): nothing more

    # ---- the caller's side ----------------------------------------------------------

    def listen(self, on_message, on_close):
        """Set the listeners (None, None: back to queueing) and hand them what
        waited in the inbox, in order, now."""
        self._on_message, self._on_close = on_message, on_close
        while self._inbox and self._on_message is not None:
            kind, args = self._inbox.popleft()
            if kind == "message":
                self._on_message(args)
            else:
                self._on_close(*args)

    def send_text(self, text):
        """Send one text message. Raises before the handshake is done; does
        nothing once the connection is closing."""
        if self.state == CONNECTING:
            raise RuntimeError("WebSocket still CONNECTING")
        if self.state == OPEN:
            self._write(OP_TEXT, text.encode("utf-8"))

    def close(self, code=1000):
        """Start the closing handshake: the server answers with its close
        frame and ends the TCP connection (on_close). No timeout here: the
        caller bounds it and terminates."""
        if self.state == OPEN:
            self.state = CLOSING
            self._send_close(code)
        elif self.state == CONNECTING:
            self.terminate()

    def terminate(self):
        """End the TCP connection at once, whatever the state, quietly."""
        self._done = True
        self.state = CLOSED
        if self._transport is not None:
            self._transport.abort()

    # ---- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport):
        self._transport = transport
        if self._done:
            transport.abort()
            return
        transport.write((
            f"GET {self._path} HTTP/1.1\r\nHost: {self._netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {self._key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode("latin-1"))

    def data_received(self, data):
        if self._done:
            return
        if self.state == CONNECTING:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > MAX_HEAD:
                    self._fail(WebSocketError(f"handshake response head exceeds {MAX_HEAD} bytes"))
                return
            data = bytes(self._head[end + 4:])
            problem = self._check_head(self._head[:end].decode("latin-1"))
            self._head = None
            if problem:
                self._fail(WebSocketError(problem))
                return
            self.state = OPEN
            if self.on_open is not None:
                self.on_open()  # at once: the hello goes out in this same turn of the loop
            if not data or self._done:
                return
        try:
            frames = self._parser.feed(data)
        except WebSocketError as e:
            self._protocol_error(e)
            return
        # A frame that followed a protocol error in the same read is never
        # reached: feed() raised before returning any of them.
        for op, payload in frames:
            if self._done:
                return
            if op in (OP_TEXT, OP_BINARY):
                if self.state == OPEN:  # after our close: of no use
                    self._deliver("message", payload)
            elif op == OP_PING:
                if self.state == OPEN:
                    self._write(OP_PONG, payload)
            elif op == OP_CLOSE:
                self._on_close_frame(payload)

    def connection_lost(self, exc):
        if self._done:
            return
        was_open = self.state != CONNECTING
        self.state = CLOSED
        if self._close_args is not None:
            code, reason, err = *self._close_args, None
        else:
            err = self._error or exc or ConnectionResetError(
                "connection closed without a close frame" if was_open else "connection closed during the handshake")
            code, reason = 1006, ""
        self._deliver("close", (code, reason, err))
        self._done = True

    # ---- inside ---------------------------------------------------------------------

    def _deliver(self, kind, args):
        if self._on_message is not None and not self._inbox:
            if kind == "message":
                self._on_message(args)
            else:
                self._on_close(*args)
        else:
            self._inbox.append((kind, args))

    def _check_head(self, head):
        status, *fields = head.split("\r\n")
        parts = status.split(" ", 2)
        if len(parts) < 2 or parts[0] != "HTTP/1.1":
            return f"not an HTTP/1.1 response: {status[:80]!r}"
        if parts[1] != "101":
            return f"unexpected response status {parts[1]} (want 101 Switching Protocols)"
        h = {}
        for f in fields:
            k, sep, v = f.partition(":")
            if sep:
                h[k.strip().lower()] = v.strip()
        if h.get("upgrade", "").lower() != "websocket":
            return "response lacks Upgrade: websocket"
        if "upgrade" not in h.get("connection", "").lower():
            return "response lacks Connection: Upgrade"
        want = base64.b64encode(hashlib.sha1(self._key.encode() + GUID).digest()).decode()
        if h.get("sec-websocket-accept") != want:
            return "response has a wrong Sec-WebSocket-Accept"
        if h.get("sec-websocket-extensions"):
            return f"server chose an extension we did not offer: {h['sec-websocket-extensions']}"
        return ""

    def _on_close_frame(self, payload):
        # Answer the server's close (unless we started it) and let it end TCP;
        # we end our side too, so a server that never does cannot hold us.
        code, reason = 1005, ""
        if len(payload) >= 2:
            code = struct.unpack_from("!H", payload)[0]
            reason = payload[2:].decode("utf-8", "replace")
        self._close_args = (code, reason)
        self.state = CLOSING
        self._send_close(code if len(payload) >= 2 else None)
        self._transport.close()

    def _send_close(self, code):
        if self._close_sent:
            return
        self._close_sent = True
        self._write(OP_CLOSE, b"" if code is None else struct.pack("!H", code))

    def _write(self, op, payload):
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(encode_frame(op, payload))

    def _protocol_error(self, err):
        if self.state == OPEN:
            self._send_close(err.code)
        self._fail(err)

    def _fail(self, err):
        """End the connection abruptly; connection_lost reports err (1006)."""
        if self._error is None:
            self._error = err
        self._close_args = None
        self._transport.abort()


async def open_websocket(url):
    """Dial url and complete the opening handshake. Raises OSError (refused,
    reset), WebSocketError (not a WebSocket answer) or ValueError (bad URL).
    Cancelling it drops the connection."""
    loop = asyncio.get_running_loop()
    ws = WebSocket(url, loop)
    opened = loop.create_future()

    def on_open():
        ws.listen(None, None)  # what follows waits in the inbox for the caller's listeners
        opened.set_result(None)

    def on_close(code, reason, err):
        if not opened.done():
            opened.set_exception(err or ConnectionResetError("connection closed during the handshake"))

    ws.on_open = on_open
    ws.listen(lambda data: None, on_close)
    try:
        await loop.create_connection(lambda: ws, ws.host, ws.port)
        await opened
    except BaseException:
        ws.terminate()
        raise
    return ws

"""One attempt (dial + upgrade + hello + the server's answer, bounded by a
timeout) and one established connection (frames in and out, a liveness
bound, an abrupt or a graceful end), over websocket.py."""

import asyncio
import dataclasses

from . import wire
from .errors import ProtocolError, TransportError
from .websocket import WebSocket

CLOSE_GRACE = 1.0  # how long a deliberate close waits for the server to end the connection (Go's closeGrace)


@dataclasses.dataclass
class Answer:
    """What one attempt got:

    ws and frame     welcome or resumed: the open connection, to adopt (its
                     next frames wait in its inbox until Conn.start)
    frame only       any other frame (refused, ...): the connection was dropped
    err              refused, reset, closed or timed out before an answer
    err, rejected    the server answered, but not with a valid frame
    """

    ws: object = None
    frame: dict = None
    err: Exception = None
    rejected: bool = False


def dial(url, hello, timeout, done):
    """Make one attempt on url within timeout seconds: connect, upgrade, send
    hello, read the answer. done(answer) is called exactly once, never from
    inside dial(), unless the returned attempt is cancelled first.

    Everything after the TCP connect runs from the socket's callbacks, with
    no task in between: the hello goes out in the loop turn that read the
    101, and the session gets the answer in the turn that read it. With a
    thousand sessions in one loop, each extra turn is a wait behind all the
    others' work."""
    return _Dial(url, hello, timeout, done)


class _Dial:
    def __init__(self, url, hello, timeout, done):
        self.url, self._hello, self._done = url, hello, done
        self._loop = asyncio.get_running_loop()
        self._finished = False
        self._ws = self._task = None
        self._timer = self._loop.call_later(
            timeout, self._fail, TransportError(f"attempt on {url} timed out after {round(timeout * 1000)}ms"))
        try:
            self._ws = WebSocket(url, self._loop)
        except ValueError as e:
            self._loop.call_soon(self._fail, TransportError(f"dial {url}: {e}"))
            return
        self._ws.on_open = lambda: self._ws.send_text(self._hello)
        self._ws.listen(self._on_message, self._on_close)
        self._task = self._loop.create_task(self._connect())

    async def _connect(self):
        try:
            await self._loop.create_connection(lambda: self._ws, self._ws.host, self._ws.port)
        except Exception as e:  # refused, unreachable, ...: this attempt failed
            self._fail(TransportError(f"dial {self.url}: {e}"))

    def _on_message(self, data):
        self._ws.listen(None, None)  # the frames behind the answer wait for the adopter
        try:
            f = wire.decode(data)
        except wire.FrameError as e:  # the server answered, with garbage
            self._settle(Answer(err=ProtocolError(f"answer from {self.url}: {e}"), rejected=True))
            return
        if f["t"] in (wire.WELCOME, wire.RESUMED):
            self._settle(Answer(ws=self._ws, frame=f))
        else:
            self._settle(Answer(frame=f))  # refused (the server closes too) or nonsense

    def _on_close(self, code, reason, err):
        self._fail(TransportError(f"dial {self.url}: {err}" if err else
                                  f"connection to {self.url} closed (code {code}) before an answer"))

    def _fail(self, err):
        self._settle(Answer(err=err))

    def _settle(self, ans):
        if self._finished:
            return
        self._finished = True
        self._timer.cancel()
        if ans.ws is None and self._ws is not None:
            self._ws.terminate()
        self._done(ans)

    def cancel(self):
        """Give the attempt up: its connection is dropped, done is never called."""
        if self._finished:
            return
        self._finished = True
        self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
        if self._ws is not None:
            self._ws.terminate()


def discard(ans):
    """Release an answer that will not be used."""
    if ans is not None and ans.ws is not None:
        ans.ws.terminate()


class Conn:
    """One established connection. on_frame(conn, frame) gets every frame;
    on_lost(conn, err) is called once if the connection breaks (closed,
    reset, corrupt, or silent beyond idle seconds), always from the loop,
    never from inside the caller's own send."""

    def __init__(self, ws, url, idle=0.0, on_frame=None, on_lost=None):
        self.ws, self.url, self.idle = ws, url, idle
        self.on_frame = on_frame or (lambda c, f: None)
        self.on_lost = on_lost or (lambda c, e: None)
        self.ended = False
        self._loop = asyncio.get_running_loop()
        self._last_rx = self._loop.time()
        self._idle_timer = None
        self._finished = self._loop.create_future()

    def start(self):
        """Begin reading: the frames that waited since the answer come first."""
        if self.idle > 0:
            self._idle_timer = self._loop.call_at(self._last_rx + self.idle, self._check_idle)
        self.ws.listen(self._on_message, self._on_close)

    def _check_idle(self):
        # One timer re-armed from the last frame, rather than one per frame.
        due = self._last_rx + self.idle
        if self._loop.time() >= due:
            self._lost(TransportError(f"connection idle: nothing received from {self.url} for {round(self.idle * 1000)}ms"))
        else:
            self._idle_timer = self._loop.call_at(due, self._check_idle)

    def _on_message(self, data):
        if self.ended:
            return
        self._last_rx = self._loop.time()  # every frame counts as life
        try:
            f = wire.decode(data)
        except wire.FrameError as e:
            # A corrupt stream cannot be trusted: a loss, and recovery.
            self._lost(ProtocolError(f"from {self.url}: {e}"))
            return
        self.on_frame(self, f)

    def _on_close(self, code, reason, err):
        detail = f"code {code}" + (f", {reason}" if reason else "") + (f": {err}" if err else "")
        self._lost(TransportError(f"connection to {self.url} closed ({detail})"))

    def _lost(self, err):
        if self.ended:
            return
        self._end()
        self.ws.terminate()
        self._finished.set_result(None)
        self._loop.call_soon(self.on_lost, self, err)

    def _end(self):
        self.ended = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def send(self, frame):
        if not self.ended:
            self.ws.send_text(wire.encode(frame))

    def abort(self):
        """Drop the connection at once, reporting nothing."""
        if not self.ended:
            self._end()
        self.ws.terminate()
        if not self._finished.done():
            self._finished.set_result(None)
        return self._finished

    def finish(self, grace=CLOSE_GRACE):
        """Send close{}, then give the server up to grace seconds to end the
        connection before dropping it. Returns a future done once the
        connection is gone; it never fails."""
        if self.ended:
            return self.abort()
        self._end()

        def done(*_):
            timer.cancel()
            self.ws.terminate()
            if not self._finished.done():
                self._finished.set_result(None)

        timer = self._loop.call_later(grace, done)
        self.ws.send_text(wire.encode({"t": wire.CLOSE}))
        self.ws.listen(lambda data: None, done)  # the session is over: frames in flight are of no use
        return self._finished

"""The driver protocol (docs/driver-protocol.md) over a byte source and a
line sink: newline-delimited JSON, ops in, replies and events out. driver.py
runs it on stdin/stdout; the tests feed it lines and read what it wrote.

One process hosts many sessions, one per client: the hello declares how
many ("sessions"), every op names its client ("client": k), and every event
of client k's session carries "client": k. An op without "client" goes to a
default session whose events carry none: the one-session protocol. Ops are
handled as they arrive; connect and close are answered when done, so the
replies of ops that came meanwhile may overtake theirs (every reply names
its op by id).
"""

import asyncio
import json
import os

from . import errors as E
from .options import from_driver_options
from .session import Session
from .walk import seeded_random

SDK = "faultline-python"
VERSION = "0.1.0"
# What this engine implements. Migration and routing are not: not declaring
# them makes the harness report their requirements UNIMPLEMENTED.
FEATURES = ("reconnect", "failover", "load_balancing", "cascading")
SESSIONS = 4096  # clients per process: one process for any scenario
EXIT_CLOSE_BOUND = 2.0  # seconds the sessions get to close on exit (each is bounded by the 1s grace)
MAX_LINE = 1 << 20  # the protocol's bound on a line

_DEFAULT = "default"  # the slot of ops without "client"


def hello(sessions=SESSIONS):
    """The first line. No "type": the harness tells the hello from events by that."""
    h = {"sdk": SDK, "version": VERSION, "features": list(FEATURES)}
    if sessions > 1:
        h["sessions"] = sessions
    return h


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**53


class OpError(Exception):
    """An op that cannot be served: its reply is ok: false with this text."""


class Driver:
    """write(obj) puts one JSON line out, flushed; on_exit() is called once
    every session closed after exit or the end of input. random is the
    default session's stream; a client's comes from its connect op."""

    def __init__(self, write, sessions=SESSIONS, random=None, env=None, on_exit=None):
        self._write = write
        self.sessions = sessions
        self.random = random
        self.env = os.environ if env is None else env
        self.on_exit = on_exit or (lambda: None)
        self.slots = {}  # client (or _DEFAULT) -> {"session", "random", "drew"}
        self.exiting = False
        self._pending = bytearray()  # input after the last newline
        self._skipping = False  # inside an overlong line, until its newline
        self._tasks = set()

    def start(self):
        self._write(hello(self.sessions))

    # ---- input ----------------------------------------------------------------------

    def feed(self, chunk):
        """Take bytes of input; every complete line is handled at once."""
        self._pending += chunk
        while True:
            i = self._pending.find(b"\n")
            if i < 0:
                break
            line = bytes(self._pending[:i])
            del self._pending[:i + 1]
            if self._skipping:
                self._skipping = False
                continue
            self.handle_line(line)
        if len(self._pending) > MAX_LINE:
            self._error(f"bad op line: longer than {MAX_LINE} bytes", None)
            self._pending.clear()
            self._skipping = True

    def end_of_input(self):
        """The harness is done or gone: close everything and exit."""
        if self._pending and not self._skipping:
            self.handle_line(bytes(self._pending))
        self._pending.clear()
        self._exit()

    def handle_line(self, line):
        """One op line. A line that is no op, or has no integer id, gets an
        error event: there is nothing to reply to."""
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                self._error("bad op line: not UTF-8", None)
                return
        if not line.strip():
            return
        try:
            op = json.loads(line)
        except ValueError as e:
            self._error(f"bad op line: {e}", None)
            return
        if not isinstance(op, dict):
            self._error("bad op line: not a JSON object", None)
            return
        client = op.get("client") if _is_int(op.get("client")) and op.get("client") >= 0 else None
        if not _is_int(op.get("id")):
            self._error(f"op without an integer id: {line[:200]}", client)
            return
        self._handle(op)

    # ---- ops ------------------------------------------------------------------------

    def _handle(self, op):
        rid, name = op["id"], op.get("op")
        if self.exiting:
            self._reply(rid, "driver is exiting")
            return
        try:
            if name == "exit":
                self._reply(rid, None)
                self._exit()
                return
            if name == "probe":  # the harness's lag probe: answered at once, from this loop
                self._reply(rid, None)
                return
            slot = self._slot_for(op)
            if name == "connect":
                self._spawn(self._connect(rid, slot, op))
                return
            if name == "close":
                self._spawn(self._close(rid, slot))
                return
            if name == "subscribe":
                _need(slot).subscribe(op.get("topic"))
            elif name == "send":
                _need(slot).send(op.get("payload"))
            elif name in ("request", "cancel"):
                raise OpError(f"{name}: not implemented by {SDK} (no migration)")
            else:
                raise OpError(f"unknown op {json.dumps(name)}")
            self._reply(rid, None)
        except Exception as e:
            self._reply(rid, str(e) or repr(e))

    def _slot_for(self, op):
        """The op's session slot, made at its first op; a client's random
        stream is drawn at its first connect, from what the op says."""
        key = _DEFAULT
        if "client" in op:
            if not _is_int(op["client"]) or op["client"] < 0:
                raise OpError(f"bad client {json.dumps(op['client'])}: want an integer >= 0")
            key = op["client"]
        slot = self.slots.get(key)
        if slot is None:
            if len(self.slots) >= self.sessions + 1:
                raise OpError(f"this process hosts {self.sessions} sessions already")
            slot = {"key": key, "session": None, "random": self.random if key == _DEFAULT else None,
                    "drew": key == _DEFAULT}
            self.slots[key] = slot
        if not slot["drew"] and op.get("op") == "connect":
            seed = op.get("seed", self.env.get("FAULTLINE_SEED"))
            drv = op.get("driver", self.env.get("FAULTLINE_DRIVER"))
            slot["random"], slot["drew"] = seeded_random(seed, drv), True
        return slot

    async def _connect(self, rid, slot, op):
        try:
            if slot["session"] is not None and not E.is_closed(slot["session"].state):
                raise OpError("already connected")
            servers = op.get("servers")
            if not isinstance(servers, list) or not servers:
                raise OpError("connect: no servers")
            opts = op.get("options")
            opts = {} if opts is None else opts
            if not isinstance(opts, dict):
                raise OpError("connect: options is not an object")
            k = slot["key"]
            s = Session(
                from_driver_options(servers, opts, random=slot["random"]),
                on_state=lambda c: self._event("state", c, k),
                on_message=lambda topic, seq, data: self._event("message", {"topic": topic, "seq": seq}, k),
                on_error=lambda err: self._event("error", {"text": str(err) or repr(err)}, k),
            )
            slot["session"] = s
            await s.open()
            self._reply(rid, None)
        except Exception as e:
            self._reply(rid, str(e) or repr(e))

    async def _close(self, rid, slot):
        try:
            await _need(slot).close()
            self._reply(rid, None)
        except Exception as e:
            self._reply(rid, str(e) or repr(e))

    def _exit(self):
        """From here on every op is refused; the sessions close, then on_exit()."""
        if not self.exiting:
            self.exiting = True
            self._spawn(self._shutdown())

    async def _shutdown(self):
        """Close every session together (bounded), then on_exit()."""
        open_ = [s["session"] for s in self.slots.values() if s["session"] and not E.is_closed(s["session"].state)]
        if open_:
            await asyncio.wait([asyncio.ensure_future(s.close()) for s in open_], timeout=EXIT_CLOSE_BOUND)
        # Ops still under way (a connect, a close) answer now that their
        # sessions closed: every op sent gets its reply before we go.
        others = [t for t in self._tasks if t is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=EXIT_CLOSE_BOUND)
        self.on_exit()

    # ---- output ---------------------------------------------------------------------

    def _reply(self, rid, err):
        self._write({"re": rid, "ok": True} if err is None else {"re": rid, "ok": False, "error": err})

    def _event(self, type_, fields, client):
        e = {"type": type_}
        if client != _DEFAULT and client is not None:
            e["client"] = client
        for k, v in fields.items():
            if v is not None and v != "" and v != []:  # empty fields left out, as Go's omitempty
                e[k] = v
        self._write(e)

    def _error(self, text, client):
        self._event("error", {"text": text}, client)

    def _spawn(self, coro):
        # Keep a reference: the loop holds tasks only weakly.
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)


def _need(slot):
    if slot["session"] is None:
        raise OpError("not connected")
    return slot["session"]

"""One client session over faultline's session protocol: it detects a lost
connection, reconnects with a pluggable strategy inside one overall timeout,
recovers the session without losing or duplicating messages in either
direction, and moves across a list of servers by cascading and autofailover.
The semantics are the Go reference engine's (client/ in the faultline tree)
and the Node SDK's (sdk/node/lib/session.js), so all are judged alike.

States (Diffusion's): CONNECTING -> CONNECTED_ACTIVE | CLOSED_*;
CONNECTED_ACTIVE -> RECOVERING_RECONNECT | CONNECTING (failover) | CLOSED_*;
RECOVERING_RECONNECT -> CONNECTED_ACTIVE | CONNECTING (failover) | CLOSED_*.
A closed session never reopens.

Everything runs on one asyncio loop, so the state machine needs no lock; it
needs care about re-entrance instead. Socket callbacks call in directly,
strategy decisions and losses arrive through loop.call_soon. Every way in
(marked @_entry) queues the user's callbacks and runs them when it returns,
in order: after the transition that caused them, so one may call close() or
send() without finding the session half-changed, and in the same turn of
the loop, so an event is reported as soon as it happened (with a thousand
sessions in one loop, a turn can take tens of milliseconds).

Servers:
 - An attempt is one dial + upgrade + hello + answer, bounded by the connect
   timeout (and, while recovering, by what is left of the overall timeout).
 - Cascading (before a session exists): a failed attempt (refused, reset,
   timed out, garbage) is followed at once by one on the next server in list
   order, each server once. An explicit refusal (access denied) ends it.
 - Autofailover (once a session was established and is lost for good): a
   NEW session on the servers after the lost one (wrapping round, shuffled
   with load balancing), the lost one last, each once, no delay between.
   Nothing is carried over; unacknowledged sends are reported discarded.
 - With reconnection on as well, recovery comes first, on the lost server
   only; the failover follows once recovery is impossible.
"""

import asyncio
import collections
import functools
import sys

from . import errors as E
from . import wire
from .backoff import Attempt
from .transport import Conn, dial, discard
from .walk import cascade_order, failover_order


def _entry(method):
    """Marks a way into the state machine (the application, a socket, a
    timer): the callbacks its transitions queued run when it returns."""

    @functools.wraps(method)
    def wrapper(self, *args):
        try:
            return method(self, *args)
        finally:
            self._drain()

    return wrapper


class Session:
    """open() it, then subscribe(), send(), close(). Callbacks: on_state(change)
    with change a dict {from, to, server, session, reason[, tried]},
    on_message(topic, seq, data), on_error(exception)."""

    def __init__(self, options, on_state=None, on_message=None, on_error=None):
        self.o = options
        self.strategy = options.strategy
        self.state = ""
        self.id = ""
        self.server = options.servers[0]
        self.err = None  # the CloseError once closed
        self._on_state, self._on_message, self._on_error = on_state, on_message, on_error
        self._loop = asyncio.get_running_loop()
        self._token = ""
        self._ping_ms = 0
        self._cur = None  # the live Conn, None while not connected
        self._reset_numbering()
        self._overall = None  # the one reconnection timer, from the first loss
        self._deadline = 0.0  # when it fires (loop time), 0 when not recovering
        self._pending = None  # attempt offered to the strategy, not started yet
        self._inflight = None  # attempt whose dial is running
        self._walk = None  # the cascade or failover under way (state CONNECTING)
        self._opened = False
        self._connected = False  # the first CONNECTED_ACTIVE happened
        self._ready = self._loop.create_future()  # open()'s result
        self._finishing = []  # futures of the connections we are closing
        self._callbacks = collections.deque()
        self._draining = False

    def _reset_numbering(self):
        # What a session carries across reconnections, and a failover drops.
        self._last = {}  # last seq received per topic
        self._acked = {}  # last seq acked to the server per topic
        self._subs = set()
        self._unsent = []  # subscriptions made while not connected
        self._buf = collections.deque()  # (n, payload) sent but not acked, n ascending
        self._next_n = 1

    # ---- the application's side ---------------------------------------------------

    async def open(self):
        """Start on servers[0] (walking the list with cascading) and return once
        CONNECTED_ACTIVE; raise CloseError, naming every server tried, when
        the first connection fails."""
        self._begin()
        await asyncio.shield(self._ready)

    @_entry
    def _begin(self):
        if not self._opened:
            self._opened = True
            self._set_state(E.CONNECTING, "")
            self._start_walk(cascade_order(self.o.servers, self.o.cascading))

    def subscribe(self, topic):
        """Subscribe to topic. A subscription made while not connected is sent
        once connected; a resumed session keeps those the server has."""
        if not isinstance(topic, str) or not topic:
            raise ValueError("subscribe: want a non-empty topic")
        self._assert_open()
        if topic in self._subs:
            return
        self._subs.add(topic)
        if self._cur is not None:
            self._cur.send({"t": wire.SUB, "topic": topic})
        else:
            self._unsent.append(topic)

    def send(self, payload=None):
        """Send payload (any JSON value) as the next numbered send. It stays
        in the recovery buffer until acked, and waits there while recovering."""
        self._assert_open()
        if len(self._buf) >= self.o.recovery_buffer:
            raise RuntimeError(f"recovery buffer full ({self.o.recovery_buffer} unacknowledged sends)")
        n = self._next_n
        self._next_n += 1
        self._buf.append((n, payload))
        if self._cur is not None:
            self._cur.send({"t": wire.SEND, "n": n, "data": payload})

    async def close(self):
        """Close deliberately: close{} to the server, CLOSED_BY_CLIENT, no
        reconnection, no failover. Returns once the connection has ended
        (bounded by the close grace)."""
        self._begin_close()
        if self._finishing:
            await asyncio.gather(*self._finishing)

    @_entry
    def _begin_close(self):
        if not self._opened:  # never opened: nothing to report, nothing to end
            self._opened = True
            self.state = E.CLOSED_BY_CLIENT
            self.err = E.CloseError(self.state, E.R_CLOSED_BY_CLIENT, self.server)
            self._ready.set_exception(self.err)
            self._ready.exception()  # retrieved: open() can no longer be awaited usefully
        elif not E.is_closed(self.state):
            self._close_with(E.CLOSED_BY_CLIENT, E.R_CLOSED_BY_CLIENT, None, graceful=True)

    def _assert_open(self):
        if E.is_closed(self.state):
            raise RuntimeError(f"session closed: {self.err}")

    # ---- attempts -----------------------------------------------------------------

    def _launch(self, a):
        """Run attempt a on self.server, bounded by the connect timeout and,
        while recovering, by the overall deadline."""
        timeout = self.o.connect_timeout_ms / 1000
        if self._deadline:
            timeout = max(0.0, min(timeout, self._deadline - self._loop.time()))
        self._inflight = a
        # The TCP connect starts on the next turn of the loop, after this
        # transition's callbacks ran: a walk's CONNECTING is reported before
        # any server can see the attempt it announces.
        a.cancel = dial(self.server, wire.encode(self._hello()), timeout, lambda ans: self._on_dialed(a, ans)).cancel

    def _hello(self):
        h = {"t": wire.HELLO, "principal": self.o.principal, "credentials": self.o.credentials,
             "retention_ms": round(self.o.retention_ms), "no_reconnect": not self.o.reconnect}
        if self.id:
            h.update(session=self.id, token=self._token, last=dict(self._last))
        return h

    @_entry
    def _on_dialed(self, a, ans):
        if a is not self._inflight or E.is_closed(self.state):
            discard(ans)
            return
        self._inflight = None
        if self.state == E.CONNECTING:
            self._on_walk_answer(ans)
        else:
            self._on_resume_answer(ans)

    def _adopt(self, ws):
        idle = (self.o.liveness_ms or 2 * self._ping_ms) / 1000
        return Conn(ws, self.server, idle, self._frame_of, self._lost_of)

    @_entry
    def _frame_of(self, c, f):
        if c is self._cur and not E.is_closed(self.state):
            self._on_frame(f)

    @_entry
    def _lost_of(self, c, err):
        if c is self._cur and not E.is_closed(self.state):
            self._on_lost(err)

    def _start_reading(self):
        # Last step of a transition into CONNECTED_ACTIVE: frames that came
        # right behind the answer (a replay) are handled now, not before.
        if self._cur is not None:
            self._cur.start()

    # ---- frames -------------------------------------------------------------------

    def _on_frame(self, f):
        t = f["t"]
        if t == wire.PING:
            self._cur.send({"t": wire.PONG})
            self._ack_messages()
        elif t == wire.MSG:
            self._on_msg(f)
        elif t == wire.ACK:
            upto = f.get("n") or 0
            while self._buf and self._buf[0][0] <= upto:  # acks are cumulative
                self._buf.popleft()
        elif t == wire.CLOSED:
            self._close_with(E.CLOSED_BY_SERVER, E.R_CLOSED_BY_SERVER, None, graceful=False)
        elif t == wire.REFUSED:
            self._close_with(E.CLOSED_FAILED, E.refusal_reason(f.get("reason")), self._refused(f), graceful=False)
        else:
            self._report(E.ProtocolError(f"unexpected {t} frame from {self.server}"))

    def _on_msg(self, f):
        """Deliver each seq of a topic once and in order. The first message of
        a topic sets its baseline (a subscription may start mid-stream)."""
        topic, seq = f["topic"], f.get("seq") or 0
        if seq == 0:
            self._report(E.ProtocolError(f"msg on {topic!r} without seq from {self.server}"))
            return
        last = self._last.get(topic)
        if last is not None and seq <= last:
            return  # a replayed duplicate
        if last is not None and seq != last + 1:
            # Never a silent loss: a hole closes the session (R3).
            self._close_with(E.CLOSED_FAILED, E.R_LOST_MESSAGES,
                             E.ProtocolError(f"gap on {topic!r}: seq {seq} after {last}"), graceful=True)
            return
        self._last[topic] = seq
        if self._on_message is not None:
            data = f.get("data")
            self._dispatch(lambda: self._on_message(topic, seq, data))

    def _ack_messages(self):
        # Once per ping, how far each topic got: the server trims its buffer.
        for topic, seq in self._last.items():
            if self._acked.get(topic, 0) < seq:
                self._acked[topic] = seq
                self._cur.send({"t": wire.ACK, "topic": topic, "seq": seq})

    # ---- loss and recovery ----------------------------------------------------------

    def _on_lost(self, cause):
        self._cur.abort()
        self._cur = None
        self._report(cause)
        if not self.o.reconnect:
            self._give_up(E.R_CONNECTION_LOST, cause)  # R7: opted out, no attempt
            return
        self._set_state(E.RECOVERING_RECONNECT, "")
        # R5: one overall timer from the first loss, not one per attempt.
        timeout = self.o.reconnect_timeout_ms / 1000
        self._deadline = self._loop.time() + timeout
        self._overall = self._loop.call_later(timeout, self._on_overall_timeout)
        self._offer()

    @_entry
    def _on_overall_timeout(self):
        self._overall = None
        if self.state == E.RECOVERING_RECONNECT:
            self._give_up(E.R_RECONNECT_TIMEOUT,
                          TimeoutError(f"reconnection timed out after {round(self.o.reconnect_timeout_ms)}ms"))

    def _offer(self):
        """Ask the strategy for the next attempt."""
        a = Attempt(lambda kind, att: self._on_start(att) if kind == "start" else self._on_abort(att))
        self._pending = a
        try:
            self.strategy.perform_reconnection(a)
        except Exception as e:  # a strategy that throws cannot schedule: as if it aborted
            self._report(e)
            if self._pending is a:
                self._give_up(E.R_RECONNECT_ABORTED, e)

    @_entry
    def _on_start(self, a):
        if self.state != E.RECOVERING_RECONNECT or a is not self._pending:
            return  # late or stale
        self._pending = None
        if self._loop.time() >= self._deadline:  # the timer is due but has not run yet
            self._give_up(E.R_RECONNECT_TIMEOUT, TimeoutError("reconnection timed out"))
            return
        self._launch(a)

    @_entry
    def _on_abort(self, a):
        if self.state == E.RECOVERING_RECONNECT and a is self._pending:
            self._give_up(E.R_RECONNECT_ABORTED, RuntimeError("reconnection aborted by the strategy"))

    def _stop_recovery(self):
        """End the overall timer and void any attempt (the strategy's timer is
        cleared, a running dial cancelled)."""
        if self._overall is not None:
            self._overall.cancel()
            self._overall = None
        self._deadline = 0.0
        for a in (self._pending, self._inflight):
            if a is not None:
                a.kill()
        self._pending = self._inflight = None

    def _on_resume_answer(self, ans):
        f = ans.frame
        if ans.rejected:
            self._close_with(E.CLOSED_FAILED, E.R_HANDSHAKE, ans.err, graceful=False)
        elif ans.err is not None:  # transport: try again, as the strategy says
            self._report(ans.err)
            self._offer()
        elif f["t"] == wire.REFUSED and f.get("reason") in (wire.UNKNOWN_SESSION, wire.LOST_MESSAGES):
            # The session is gone, or cannot resume without a hole: fail over
            # when on, else close (R3, R6) rather than loop.
            self._give_up(f["reason"], self._refused(f))
        elif f["t"] == wire.REFUSED:
            self._close_with(E.CLOSED_FAILED, E.refusal_reason(f.get("reason")), self._refused(f), graceful=False)
        elif f["t"] == wire.WELCOME:
            discard(ans)  # a new session: ours is gone (the server keeps nothing for a dropped hello)
            self._give_up(E.R_UNKNOWN_SESSION, E.ProtocolError(f"welcome {f['session']} instead of resumed {self.id}"))
        elif f["session"] != self.id:
            discard(ans)
            self._close_with(E.CLOSED_FAILED, E.R_HANDSHAKE,
                             E.ProtocolError(f"resumed {f['session']}, asked for {self.id}"), graceful=False)
        else:
            self._resume(ans)

    def _resume(self, ans):
        """Back to CONNECTED_ACTIVE; resend what the server did not get, from
        its received + 1, exactly once (R3)."""
        received = ans.frame.get("received") or 0
        sent = self._next_n - 1
        if ans.frame.get("ping_ms"):
            self._ping_ms = ans.frame["ping_ms"]
        self._stop_recovery()
        self._cur = self._adopt(ans.ws)
        if received > sent:
            self._close_with(E.CLOSED_FAILED, E.R_HANDSHAKE,
                             E.ProtocolError(f"server received {received} of {sent} sends"), graceful=True)
            return
        while self._buf and self._buf[0][0] <= received:
            self._buf.popleft()
        if received < sent and (not self._buf or self._buf[0][0] != received + 1):
            first = self._buf[0][0] if self._buf else None
            self._close_with(E.CLOSED_FAILED, E.R_LOST_MESSAGES, E.ProtocolError(
                f"server received up to {received}, recovery buffer starts at {first}"), graceful=True)
            return
        self._set_state(E.CONNECTED_ACTIVE, "")
        self._flush()
        self._reset_strategy()  # R9: the next loss starts from the first delay
        self._start_reading()

    def _flush(self):
        """Send what waited for a connection: unacknowledged sends in n order,
        then subscriptions made meanwhile."""
        for n, payload in self._buf:
            self._cur.send({"t": wire.SEND, "n": n, "data": payload})
        for topic in self._unsent:
            self._cur.send({"t": wire.SUB, "topic": topic})
        self._unsent = []

    def _reset_strategy(self):
        reset = getattr(self.strategy, "reset", None)
        if reset is not None:
            reset()

    # ---- walks: cascade and failover ------------------------------------------------

    def _start_walk(self, order):
        self._walk = {"order": order, "tried": [], "reason": E.R_CONNECTION_ERROR, "cause": None}
        self._try_next()

    def _try_next(self):
        """Launch the walk's next attempt, or close CLOSED_FAILED naming every
        server tried once the list is exhausted (C2)."""
        w = self._walk
        if not w["order"]:
            self._close_with(E.CLOSED_FAILED, w["reason"], w["cause"], graceful=False)
            return
        self.server = w["order"].pop(0)
        w["tried"].append(self.server)
        self._launch(Attempt(lambda kind, att: None))  # not the strategy's: nothing to start or abort

    def _on_walk_answer(self, ans):
        w, f = self._walk, ans.frame
        if ans.err is not None:  # refused, reset, timed out, or garbage: the next server
            w["cause"] = ans.err
            w["reason"] = E.R_HANDSHAKE if ans.rejected else E.R_CONNECTION_ERROR
            self._report(E.AttemptError(self.server, ans.err))
            self._try_next()
        elif f["t"] == wire.WELCOME:
            self._welcome(ans)
        elif f["t"] == wire.REFUSED:
            # A refusal (access denied, bad hello) would be the same anywhere.
            self._close_with(E.CLOSED_FAILED, E.refusal_reason(f.get("reason")), self._refused(f), graceful=False)
        else:
            discard(ans)
            err = E.ProtocolError(f"{f['t']} answer to a new hello from {self.server}")
            w["cause"], w["reason"] = err, E.R_HANDSHAKE
            self._report(E.AttemptError(self.server, err))
            self._try_next()

    def _welcome(self, ans):
        """Adopt a new session on self.server; what was sent or subscribed
        while the walk ran goes out now."""
        f = ans.frame
        self._walk = None
        self.id, self._token, self._ping_ms = f["session"], f.get("token") or "", f.get("ping_ms") or 0
        self._cur = self._adopt(ans.ws)
        self._set_state(E.CONNECTED_ACTIVE, "")
        self._flush()
        if not self._connected:
            self._connected = True
            self._dispatch(lambda: self._ready.done() or self._ready.set_result(None))  # after the state callback
        else:
            self._reset_strategy()  # a new session starts the schedule afresh
        self._start_reading()

    def _give_up(self, reason, cause):
        """End a session that could not be kept: a failover when on, else CLOSED_FAILED."""
        if self.o.failover:
            self._failover(reason, cause)
        else:
            self._close_with(E.CLOSED_FAILED, reason, cause, graceful=False)

    def _failover(self, reason, cause):
        """Give the session up and walk the list for a new one (F1, F2).
        Nothing is carried over: the new server knows nothing of the old."""
        lost = self.server
        self._stop_recovery()
        if self._cur is not None:
            self._cur.abort()
            self._cur = None
        self._set_state(E.CONNECTING, reason)  # names the lost server and session
        if self._buf:
            self._report(RuntimeError(
                f"unacknowledged sends discarded by failover: {len(self._buf)} send(s) unacknowledged by {lost}"
                + (f": {cause}" if cause else "")))
        self.id, self._token, self._ping_ms = "", "", 0
        self._reset_numbering()
        self._start_walk(failover_order(self.o.servers, lost, self.o.load_balancing, self.o.random))

    # ---- closing --------------------------------------------------------------------

    def _close_with(self, to, reason, cause, graceful):
        """End the session. graceful sends close{} on the live connection so the
        server drops the session instead of retaining it. Every timer of the
        session is cleared here."""
        self._stop_recovery()
        if self._cur is not None:
            self._finishing.append(self._cur.finish() if graceful else self._cur.abort())
            self._cur = None
        tried = list(self._walk["tried"]) if self._walk else None
        self.err = E.CloseError(to, reason, self.server, self.id, tried, cause)
        self._set_state(to, reason)
        self._walk = None
        if not self._connected:
            err = self.err
            self._dispatch(lambda: self._ready.done() or self._ready.set_exception(err))

    def _set_state(self, to, reason):
        """Record a transition; reason for CLOSED_* and a failover's CONNECTING.
        A change into CLOSED_* during a walk lists the servers tried."""
        change = {"from": self.state, "to": to, "server": self.server, "session": self.id, "reason": reason}
        if E.is_closed(to) and self._walk:
            change["tried"] = list(self._walk["tried"])
        self.state = to
        if self._on_state is not None:
            self._dispatch(lambda: self._on_state(change))

    def _report(self, err):
        if self._on_error is not None:
            self._dispatch(lambda: self._on_error(err))

    def _refused(self, f):
        return RuntimeError(f"refused by {self.server}: {f.get('reason')}")

    def _dispatch(self, fn):
        """Queue fn to run when the current way in returns (@_entry), in order."""
        self._callbacks.append(fn)

    def _drain(self):
        # A callback that calls back in (close() from on_state) queues its
        # own callbacks behind, run by this same loop: never re-entrantly.
        if self._draining:
            return
        self._draining = True
        try:
            while self._callbacks:
                fn = self._callbacks.popleft()
                try:
                    fn()
                except Exception as e:  # the application's bug must not stop the session
                    print(f"faultline-python: callback failed: {e!r}", file=sys.stderr)
        finally:
            self._draining = False


async def connect(options, **callbacks):
    """Open a session and return it once CONNECTED_ACTIVE; raise CloseError
    when the first connection fails."""
    s = Session(options, **callbacks)
    await s.open()
    return s

"""One client's session over one grpcio channel.

The channel is grpcio's own connection management (the C core's
pick_first over the target's addresses, each a subchannel with its own
back-off). The session watches its connectivity (IDLE, CONNECTING, READY,
TRANSIENT_FAILURE, SHUTDOWN) as channel.subscribe() does, with the same
cygrpc calls but shorter watches (watch()), and maps it onto faultline's
states, keeping the lifecycle rule U1:

- connect: CONNECTING, then the first Hello (a fail-fast RPC the channel
  queues until READY): its answer is CONNECTED_ACTIVE with the server's
  session, its failure CLOSED_FAILED;
- a READY channel that leaves READY: RECOVERING_RECONNECT (CLOSED_FAILED
  connection_lost with reconnect.enabled false); at IDLE the driver asks
  the channel to connect (client.library.grpc.idle_connect);
- READY again: a new Hello, then CONNECTED_ACTIVE with the new session
  (possibly on another server: pick_first starts again at the top);
- close: channel.close(), CLOSED_BY_CLIENT;
- round_robin (client.library.grpc.lb_policy): the channel stays READY
  while any backend is, so the end of the subchannel CONNECTED_ACTIVE
  names is read from channelz at each watch: RECOVERING_RECONNECT, then a
  Hello names the next CONNECTED_ACTIVE (its subchannel: the one whose
  channelz calls started grew).

Every callback (the watcher, RPC completions) only queues; one worker
thread per session handles the queue in order, so the state events come out
in the order grpcio reported things.
"""

import json
import queue
import threading
import time

import grpc
from grpc import _common
from grpc._cython import cygrpc  # channelz queries only

import contract
import kitpath  # noqa: F401  (before driverkit)
import wire
import driverkit
from driverkit import (ACTIVE, BY_CLIENT, BY_SERVER, CONNECTING, FAILED, PHASES,  # noqa: F401
                       RECOVERING, is_closed, legal)

HELLO = "/faultline.grpc.Feed/Hello"
SUBSCRIBE = "/faultline.grpc.Feed/Subscribe"
SEND = "/faultline.grpc.Feed/Send"
ROWS = "/faultline.grpc.Feed/Rows"

HELLO_RETRIES = 3  # Hellos re-sent in a row while the channel stays READY
WATCH_S = 0.05  # one connectivity watch: how long a close may wait for it
_OPENING = object()  # a topic whose stream is being opened


log = driverkit.logger("grpcio-python")


# ---------------------------------------------------------------------------
# Channelz: which channel is ours, and which address its READY subchannel
# has (grpcio gives a client call no peer()).

_CZ_LOCK = threading.Lock()
_CZ_CLAIMED = set()


def _top_channels():
    out, start = [], 0
    while True:
        d = json.loads(cygrpc.channelz_get_top_channels(start))
        chans = d.get("channel", [])
        out.extend(chans)
        if d.get("end", False) or not chans:
            return out
        start = int(chans[-1]["ref"]["channelId"]) + 1


def create_channel(target, args):
    """An insecure channel and its channelz id. Channels are created one at
    a time here, so the newest unclaimed top channel with our target is
    ours."""
    with _CZ_LOCK:
        ch = grpc.insecure_channel(target, options=sorted(args.items()))
        cid = None
        try:
            for c in _top_channels():
                n = int(c["ref"]["channelId"])
                if c.get("data", {}).get("target") == target and n not in _CZ_CLAIMED and (cid is None or n > cid):
                    cid = n
        except (ValueError, KeyError, TypeError) as e:
            log("channelz: %r" % e)
        if cid is not None:
            _CZ_CLAIMED.add(cid)
        return ch, cid


def subchannels(cid):
    """[(address, state, ever_connecting)] of channel cid's subchannels."""
    out = []
    if cid is None:
        return out
    try:
        ch = json.loads(cygrpc.channelz_get_channel(cid)).get("channel", {})
        for ref in ch.get("subchannelRef", []):
            sub = json.loads(cygrpc.channelz_get_subchannel(int(ref["subchannelId"]))).get("subchannel", {})
            data = sub.get("data", {})
            target = data.get("target", "")
            addr = target.split(":", 1)[1] if target.startswith("ipv4:") else target
            events = data.get("trace", {}).get("events", [])
            tried = any("CONNECTING" in e.get("description", "") or "TRANSIENT_FAILURE" in e.get("description", "") for e in events)
            out.append((addr, data.get("state", {}).get("state", ""), tried))
    except (ValueError, KeyError, TypeError) as e:
        log("channelz channel %s: %r" % (cid, e))
    return out


def subchannel_calls(cid):
    """{address: (state, calls started)} of channel cid's subchannels
    (channelz); a READY entry wins over another of the same address."""
    out = {}
    if cid is None:
        return out
    try:
        ch = json.loads(cygrpc.channelz_get_channel(cid)).get("channel", {})
        for ref in ch.get("subchannelRef", []):
            data = json.loads(cygrpc.channelz_get_subchannel(int(ref["subchannelId"]))).get("subchannel", {}).get("data", {})
            target = data.get("target", "")
            addr = target.split(":", 1)[1] if target.startswith("ipv4:") else target
            state = data.get("state", {}).get("state", "")
            started = int(data.get("callsStarted", "0") or 0)
            old = out.get(addr)
            if old is None or (state == "READY" and old[0] != "READY"):
                out[addr] = (state, started)
            elif old[0] == state:
                out[addr] = (state, old[1] + started)
    except (ValueError, KeyError, TypeError) as e:
        log("channelz channel %s: %r" % (cid, e))
    return out


def status_text(err):
    """CODE: details of a grpc.RpcError (or an exception's text)."""
    if isinstance(err, grpc.RpcError) and hasattr(err, "code"):
        try:
            return "%s: %s" % (err.code().name, err.details())
        except Exception:  # a Future's exception that is not a Call
            pass
    return "%s: %s" % (type(err).__name__, err)


def status_code(err):
    try:
        return err.code()
    except Exception:
        return None


# ---------------------------------------------------------------------------

class Session:
    def __init__(self, out, key, name, plan):
        self.out = out  # anything with send(obj): the driver's Output
        self.key = key  # the op's client index, or None (default session)
        self.name = name
        self.plan = plan
        self.md = (("faultline-client", name),)
        self.mu = threading.Lock()
        self.send_mu = threading.Lock()  # sends numbered in the order grpcio took them
        self.state = None
        self.session = None
        self.server = plan["servers"][0]
        self.channel = None
        self.cid = None
        self.closing = False
        self.ever_active = False
        self.last_error = ""
        self.native = None  # the last connectivity the watcher delivered
        self.rr = plan.get("lb_policy") == contract.ROUND_ROBIN
        self.active_addr = None  # round_robin: the subchannel CONNECTED_ACTIVE names
        self.hello_calls = {}  # round_robin: channelz calls started per address before the Hello in flight
        self.watching = True  # the watcher may start another watch
        self.losses = 0  # READY -> another state, as delivered
        self.hello_at = None  # losses when the Hello in flight was sent (None: none in flight)
        self.hello_tries = 0
        self.gen = 0  # CONNECTED_ACTIVE count: the connection streams belong to
        self.topics = {}  # topic -> {"call": call | None | _OPENING, "gen": n}
        self.requests = {}  # request op id -> [call, cancelled]
        self.sent = 0
        self.q = queue.Queue()
        self.settled = threading.Event()  # first connect ended (ACTIVE or closed)

    # -- events ---------------------------------------------------------------

    def event(self, e):
        if self.key is not None:
            e["client"] = self.key
        self.out.send(e)

    def error(self, text):
        self.event({"type": "error", "text": text})

    def move(self, to, native, reason=None, tried=None, server=None):
        """Reports a state change, keeping U1. self.mu is held."""
        frm = self.state
        if is_closed(frm) or frm == to:
            return False
        if not legal(frm, to):
            log("client %s: dropped %s -> %s (%s)" % (self.key, frm, to, native))
            return False
        if server is not None:
            self.server = server
        self.state = to
        e = {"type": "state", "to": to, "phase": PHASES[to], "native": native, "server": self.server}
        if frm is not None:
            e["from"] = frm
        if to != CONNECTING and self.session:
            e["session"] = self.session
        if reason:
            e["reason"] = reason
        if tried:
            e["tried"] = tried
        self.event(e)
        if to == ACTIVE or is_closed(to):
            self.settled.set()
        return True

    # -- the connect op -----------------------------------------------------

    def connect(self):
        """The first connect: answered once CONNECTED_ACTIVE or failed."""
        p = self.plan
        with self.mu:
            if self.closing:
                return "closed during connect"
            self.move(CONNECTING, "IDLE")
        try:
            ch, cid = create_channel(p["target"], p["args"])
        except Exception as e:  # a channel arg grpcio refused
            text = "grpc.insecure_channel(%s): %s" % (p["target"], e)
            with self.mu:
                self.last_error = text
                self.error(text)
                self.move(FAILED, "insecure_channel() raised", "connection_error", [self.server])
            return text
        with self.mu:
            if self.closing:
                ch.close()
                return "closed during connect"
            self.channel, self.cid = ch, cid
        threading.Thread(target=self._work, name="session-%s" % self.name, daemon=True).start()
        threading.Thread(target=self._watch, args=(ch,), name="watch-%s" % self.name, daemon=True).start()
        deadline = p["first_connect_deadline_ms"] / 1000.0
        self._hello(deadline)
        self.settled.wait(deadline + 1.0)
        with self.mu:
            late = not self.settled.is_set()
            if late:
                self.last_error = "no answer to the first Hello within %g s" % (deadline + 1.0)
                self.error("driver: " + self.last_error)
                tried = self._tried()
        if late:
            self._fail_closed(self.native or "IDLE", "connection_error", tried)
        with self.mu:
            if self.ever_active:
                return None
            return self.last_error or "not connected (%s)" % self.state

    def _fail_closed(self, native, reason, tried):
        """Closes the channel, then reports CLOSED_FAILED. In that order:
        channel.close() waits for the pending connectivity watch (cygrpc
        _close(): while state.connectivity_due) before it destroys the
        channel, and until then the subchannels go on with their attempts:
        the session is closed only once they have stopped."""
        self._close_channel()
        with self.mu:
            self.move(FAILED, native, reason, tried, server=tried[-1] if tried else None)

    # -- grpcio's side: everything goes through the queue ---------------------

    def _watch(self, ch):
        """What channel.subscribe(try_to_connect=True) does (grpc/_channel.py
        _poll_connectivity(): check_connectivity_state(True) once, then
        watch_connectivity_state() from the last state seen, reporting the
        state read when a watch fires), with watches of WATCH_S rather than
        0.2 s: channel.close() cannot cancel a pending watch and waits for
        it (cygrpc _close(), grpc issue #3064), and the channel keeps making
        attempts until it returns. Like subscribe(), it reports the state
        current when it looks, not every change."""
        conv = _common.CYGRPC_CONNECTIVITY_STATE_TO_CHANNEL_CONNECTIVITY
        try:
            last = ch._channel.check_connectivity_state(True)
            self.q.put(("state", conv[last]))
            lost = None  # round_robin: the subchannel whose end was queued
            while self.watching:
                ev = ch._channel.watch_connectivity_state(last, time.time() + WATCH_S)
                if not self.watching:
                    return
                if self.rr:
                    lost = self._watch_active(lost)
                if ev.success:
                    now = ch._channel.check_connectivity_state(False)
                    if now != last:
                        last = now
                        self.q.put(("state", conv[now]))
        except ValueError:  # "Channel closed!": the close came between two watches
            pass

    def _watch_active(self, lost):
        """round_robin: the channel stays READY while any backend is, so the
        end of the subchannel CONNECTED_ACTIVE names is read from channelz
        (each watch, WATCH_S) and queued once; returns what was queued."""
        with self.mu:
            addr = self.active_addr if self.state == ACTIVE else None
        if addr is None or addr == lost:
            return lost
        state = subchannel_calls(self.cid).get(addr, ("gone", 0))[0]
        if state == "READY":
            return lost
        self.q.put(("sub_lost", addr, state))
        return addr

    def _work(self):
        while True:
            item = self.q.get()
            if item is None:
                return
            try:
                if item[0] == "state":
                    self._on_state(item[1])
                elif item[0] == "hello":
                    self._on_hello(item[1], item[2])
                elif item[0] == "sub_lost":
                    self._on_sub_lost(item[1], item[2])
            except Exception as e:  # a bug here must not stop the session
                log("client %s: %s: %r" % (self.key, item[0], e))

    def _now(self):
        """The channel's connectivity now (not what the watcher last said)."""
        try:
            c = self.channel._channel.check_connectivity_state(False)
            return _common.CYGRPC_CONNECTIVITY_STATE_TO_CHANNEL_CONNECTIVITY[c].name
        except Exception:
            return None

    def _ready_server(self):
        """The URL of the address whose subchannel is READY (channelz)."""
        for addr, state, _ in subchannels(self.cid):
            if state == "READY" and addr in self.plan["urls"]:
                return self.plan["urls"][addr]
        return None

    def _tried(self):
        """The servers the first connect tried, in list order (channelz;
        all of them when it cannot tell)."""
        seen = {addr for addr, _, tried in subchannels(self.cid) if tried}
        tried = [u for u, a in zip(self.plan["servers"], self.plan["addresses"]) if a in seen]
        return tried or list(self.plan["servers"])

    def _on_state(self, connectivity):
        name = getattr(connectivity, "name", str(connectivity))
        hello = request = close = False
        with self.mu:
            prev, self.native = self.native, name
            if name != "READY" and prev == "READY":
                self.losses += 1
            if is_closed(self.state) or self.closing:
                return
            st = self.state
            if name == "READY":
                self.hello_tries = 0
                if st == RECOVERING and self.hello_at is None:
                    hello = True
            elif name in ("IDLE", "CONNECTING", "TRANSIENT_FAILURE"):
                if st == ACTIVE and prev != "READY" and self._now() == "READY":
                    # A state from before the READY that the Hello already
                    # saw (the watcher reports late): no loss.
                    return
                if st == ACTIVE:
                    if not self.plan["reconnect"]:
                        self.last_error = "the connection to %s ended (channel %s)" % (self.server, name)
                        self.error(self.last_error)
                        self.move(FAILED, name, "connection_lost")
                        close = True
                    else:
                        self.move(RECOVERING, name)
                if name == "TRANSIENT_FAILURE" and self.state == RECOVERING:
                    self.error("grpcio channel TRANSIENT_FAILURE: pick_first found every address failing; each retries after its own back-off")
                if name == "IDLE" and self.state == RECOVERING and self.plan["idle_connect"]:
                    request = True
        if close:
            self._close_channel()
            return
        if request:
            self._request_connection()
        if hello:
            self._hello(contract.HELLO_TIMEOUT_MS / 1000.0)

    def _on_sub_lost(self, addr, state):
        """round_robin: the subchannel CONNECTED_ACTIVE named ended while
        the channel stays READY over others: RECOVERING_RECONNECT, then a
        Hello on whichever the channel picks names the next session."""
        hello = False
        with self.mu:
            if self.closing or self.state != ACTIVE or self.active_addr != addr:
                return
            self.active_addr = None
            self.move(RECOVERING, "subchannel %s %s" % (addr, state))
            hello = self.hello_at is None
        if hello and self._now() == "READY":
            self._hello(contract.HELLO_TIMEOUT_MS / 1000.0)

    def _hello_server(self):
        """round_robin: the URL of the subchannel the Hello just answered
        went to: the one whose channelz calls started grew since it was
        sent (a send in between may blur it: then the first READY)."""
        after = subchannel_calls(self.cid)
        grew = [a for a, (_, n) in after.items() if n > self.hello_calls.get(a, ("", 0))[1] and a in self.plan["urls"]]
        if len(grew) == 1:
            return grew[0], self.plan["urls"][grew[0]]
        for a in grew or list(after):
            if after.get(a, ("", 0))[0] == "READY" and a in self.plan["urls"]:
                return a, self.plan["urls"][a]
        return None, self._ready_server()

    def _request_connection(self):
        """Asks an IDLE channel to connect (idle_connect): what
        subscribe(try_to_connect=True) does once (grpc/_channel.py
        _poll_connectivity()), through the same cygrpc call."""
        try:
            self.channel._channel.check_connectivity_state(True)
        except Exception as e:  # closed meanwhile
            log("check_connectivity_state(True): %r" % e)

    def _hello(self, timeout):
        with self.mu:
            if self.channel is None or is_closed(self.state) or self.closing:
                return
            self.hello_at = self.losses
            self.hello_tries += 1
            ch, at = self.channel, self.losses
        if self.rr:
            self.hello_calls = subchannel_calls(self.cid)
        call = ch.unary_unary(HELLO, request_serializer=wire.encode_string, response_deserializer=wire.decode_string)
        try:
            fut = call.future(self.name, timeout=timeout, metadata=self.md)
        except Exception as e:  # the channel was closed under us
            with self.mu:
                self.hello_at = None
            log("Hello: %r" % e)
            return
        fut.add_done_callback(lambda f: self.q.put(("hello", f, at)))

    def _on_hello(self, fut, at):
        err = fut.exception()
        open_topics = []
        close = again = request = False
        fail = None
        with self.mu:
            self.hello_at = None
            if is_closed(self.state) or self.closing:
                return
            st = self.state
            stale = at != self.losses  # the connection it was sent on ended since
            if err is None:
                self.session = fut.result() or None
                if self.rr:
                    self.active_addr, server = self._hello_server()
                else:
                    server = self._ready_server()
                self.ever_active = True
                self.gen += 1
                self.move(ACTIVE, "READY (Hello answered)", server=server)
                now = self._now()
                if stale or (now is not None and now != "READY"):
                    # The server opened a session on a connection that has
                    # ended since: say so, and start again.
                    self.move(RECOVERING, now or self.native or "IDLE")
                    again = now == "READY"
                    request = now == "IDLE" and self.plan["idle_connect"]
                else:
                    open_topics = self._claim_all()
            else:
                # The library's own words only: the target would name every
                # address, which the library's error does not (close_error).
                text = "grpcio Hello: %s" % status_text(err)
                self.error(text)
                code = status_code(err)
                transient = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)
                if st == CONNECTING:
                    self.last_error = text
                    reason = "connection_error" if transient else "handshake_rejected"
                    fail = (getattr(code, "name", "error"), reason, self._tried())
                elif not transient:
                    self.last_error = text
                    self.move(FAILED, getattr(code, "name", "error"), "handshake_rejected")
                    close = True
                elif self._now() == "READY" and self.hello_tries < HELLO_RETRIES:
                    again = True
        if fail is not None:
            self._fail_closed(*fail)
            return
        if close:
            self._close_channel()
            return
        for topic, gen in open_topics:
            self._open(topic, gen)
        if request:
            self._request_connection()
        if again:
            self._hello(contract.HELLO_TIMEOUT_MS / 1000.0)

    def _close_channel(self):
        with self.mu:
            ch = self.channel
            self.watching = False  # no new watch: close() waits for the pending one only
        if ch is not None:
            try:
                ch.close()
            except Exception as e:
                log("channel.close(): %r" % e)
        self.q.put(None)

    # -- Subscribe streams ---------------------------------------------------

    def _claim_all(self):
        """Topics to open on the current connection. self.mu is held."""
        out = []
        for topic, t in self.topics.items():
            if t["call"] is None:
                t["call"], t["gen"] = _OPENING, self.gen
                out.append((topic, self.gen))
        return out

    def _open(self, topic, gen):
        ch = self.channel
        mc = ch.unary_stream(SUBSCRIBE, request_serializer=wire.encode_string, response_deserializer=wire.decode_uint64)
        try:
            call = mc(topic, metadata=self.md)
        except Exception as e:  # closed under us
            with self.mu:
                t = self.topics.get(topic)
                if t is not None and t["call"] is _OPENING:
                    t["call"] = None
            log("Subscribe %s: %r" % (topic, e))
            return
        with self.mu:
            t = self.topics.get(topic)
            if t is None or t["call"] is not _OPENING or is_closed(self.state):
                call.cancel()
                return
            t["call"] = call
        threading.Thread(target=self._read_stream, args=(topic, gen, call), name="subscribe-%s" % topic, daemon=True).start()

    def _read_stream(self, topic, gen, call):
        err = None
        try:
            for seq in call:
                with self.mu:
                    if is_closed(self.state):
                        break
                    self.event({"type": "message", "topic": topic, "seq": seq})
        except grpc.RpcError as e:
            err = e
        except Exception as e:  # a response that is not a UInt64Value
            err = e
            call.cancel()
        reopen = False
        with self.mu:
            t = self.topics.get(topic)
            if t is None or t["call"] is not call:
                return
            t["call"] = None
            if is_closed(self.state) or self.closing:
                return
            if err is None:
                self.error("Subscribe %s ended by the server (OK)" % topic)
            else:
                self.error("Subscribe %s ended: %s" % (topic, status_text(err)))
            # A stream that outlived its connection (a GOAWAY's drain) is
            # re-opened on the new one at once; one that ends on the
            # current connection waits for the next CONNECTED_ACTIVE.
            if self.state == ACTIVE and gen != self.gen:
                t["call"], t["gen"] = _OPENING, self.gen
                reopen, gen = True, self.gen
        if reopen:
            self._open(topic, gen)

    def subscribe(self, topic):
        with self.mu:
            if self.channel is None or is_closed(self.state):
                return "not connected"
            if topic in self.topics:
                return None
            self.topics[topic] = {"call": None, "gen": 0}
            todo = self._claim_all() if self.state == ACTIVE else []
        for t, gen in todo:
            self._open(t, gen)
        return None

    # -- Send and Rows ------------------------------------------------------

    def send(self, payload):
        """Starts a Send RPC; None once grpcio took it, else why not."""
        with self.mu:
            if self.channel is None or is_closed(self.state):
                return "not connected"
            ch = self.channel
        mc = ch.unary_unary(SEND, request_serializer=wire.encode_bytes, response_deserializer=wire.decode_uint64)
        with self.send_mu:
            n = self.sent + 1
            try:
                body = wire.numbered(n, payload)
            except (ValueError, TypeError) as e:
                return "send: payload: %s" % e
            try:
                fut = mc.future(body, metadata=self.md)
            except Exception as e:  # the channel was closed
                return "grpcio Send: %s" % e
            self.sent = n
        fut.add_done_callback(lambda f: self._send_done(n, f))
        return None

    def _send_done(self, n, fut):
        try:
            err = fut.exception()
            with self.mu:
                if is_closed(self.state):
                    return
                if err is not None:
                    self.error("Send n=%d: %s" % (n, status_text(err)))
                elif fut.result() != n:
                    self.error("Send n=%d: the server answered %d" % (n, fut.result()))
        except Exception as e:
            log("Send n=%d: %r" % (n, e))

    def request(self, req_id, rows):
        with self.mu:
            if self.channel is None or is_closed(self.state):
                return "not connected"
            if req_id in self.requests:
                return "request %d already under way" % req_id
            ch = self.channel
        mc = ch.unary_stream(ROWS, request_serializer=wire.encode_uint64, response_deserializer=wire.decode_uint64)
        try:
            call = mc(rows, metadata=self.md + (("faultline-request", str(req_id)),))
        except Exception as e:
            return "grpcio Rows: %s" % e
        entry = [call, False]
        with self.mu:
            self.requests[req_id] = entry
        threading.Thread(target=self._read_rows, args=(req_id, entry), name="rows-%d" % req_id, daemon=True).start()
        return None

    def _read_rows(self, req_id, entry):
        call = entry[0]
        err = None
        try:
            for n in call:
                with self.mu:
                    if is_closed(self.state):
                        return
                    self.event({"type": "row", "request": req_id, "n": n})
        except grpc.RpcError as e:
            err = e
        except Exception as e:
            err = e
            call.cancel()
        with self.mu:
            self.requests.pop(req_id, None)
            if is_closed(self.state):
                return
            if err is None:
                self.event({"type": "done", "request": req_id, "cancelled": False})
            elif entry[1] and status_code(err) == grpc.StatusCode.CANCELLED:
                self.event({"type": "done", "request": req_id, "cancelled": True})
            else:
                self.error("Rows (request %d) ended: %s" % (req_id, status_text(err)))

    def cancel(self, req_id):
        with self.mu:
            entry = self.requests.get(req_id)
            if entry is None:
                return "no request %r under way" % (req_id,)
            entry[1] = True
        entry[0].cancel()
        return None

    # -- close ----------------------------------------------------------------

    def close(self):
        """Closes deliberately: channel.close() (every RPC cancelled), then
        CLOSED_BY_CLIENT."""
        with self.mu:
            if is_closed(self.state):
                return
            self.closing = True
            self.watching = False
            ch = self.channel
            if ch is None:  # exit before the channel existed
                if self.state is None:
                    self.move(CONNECTING, "IDLE")
                self.move(BY_CLIENT, "closed before the channel", "closed_by_client")
                return
        try:
            ch.close()
        except Exception as e:
            log("channel.close(): %r" % e)
        with self.mu:
            self.move(BY_CLIENT, "SHUTDOWN (channel.close())", "closed_by_client")
        self.q.put(None)

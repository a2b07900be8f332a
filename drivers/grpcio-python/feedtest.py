"""Test helpers: an in-process Feed server (grpcio's own server with
generic handlers, speaking the gRPC pack's wire agreement), a TCP relay in
front of it that can blackhole or accept-and-close, and the driver as a
process. Every wait has a deadline.
"""

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc

import wire

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "driver.py")
WAIT = 10.0  # every wait has this deadline unless it says otherwise


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(pred, what, timeout=WAIT, cv=None):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("%s: not within %.1f s" % (what, timeout))
        if cv is not None:
            with cv:
                cv.wait(min(left, 0.05))
        else:
            time.sleep(min(left, 0.01))


class FeedServer:
    """faultline.grpc.Feed on 127.0.0.1 (grpcio's server): Hello answers
    <name>/<client>#<n>, Subscribe streams what publish() sends, Send
    records the payload's n, Rows streams 1..N. Keepalive enforcement is
    permissive, as the pack's server is (grpc-spec.md)."""

    OPTIONS = [("grpc.http2.min_ping_interval_without_data_ms", 0), ("grpc.http2.max_ping_strikes", 0),
               ("grpc.keepalive_permit_without_calls", 1)]

    def __init__(self, name="s1", port=0, row_ms=20):
        self.name = name
        self.row_ms = row_ms
        self.cv = threading.Condition()
        self.hellos = []  # (t, client, peer, session)
        self.receives = []  # (t, client, n, payload bytes)
        self.subscribes = []  # (t, client, topic)
        self.rows = []  # (t, client, request id, rows)
        self.subscribers = {}  # topic -> [queue]
        self.seq = {}  # topic -> last seq
        self.n = 0
        self.server = None
        self.port = port
        self.start()

    def _handlers(self):
        u, s = grpc.unary_unary_rpc_method_handler, grpc.unary_stream_rpc_method_handler
        return grpc.method_handlers_generic_handler("faultline.grpc.Feed", {
            "Hello": u(self._hello, request_deserializer=wire.decode_string, response_serializer=wire.encode_string),
            "Subscribe": s(self._subscribe, request_deserializer=wire.decode_string, response_serializer=wire.encode_uint64),
            "Send": u(self._send, request_deserializer=wire.decode_bytes, response_serializer=wire.encode_uint64),
            "Rows": s(self._rows, request_deserializer=wire.decode_uint64, response_serializer=wire.encode_uint64),
        })

    def start(self):
        end = time.monotonic() + WAIT
        while True:
            srv = grpc.server(futures.ThreadPoolExecutor(max_workers=160), options=self.OPTIONS)
            srv.add_generic_rpc_handlers((self._handlers(),))
            try:
                port = srv.add_insecure_port("127.0.0.1:%d" % self.port)
            except RuntimeError:
                port = 0
            if port:
                break
            if time.monotonic() > end:  # the same port, still held
                raise RuntimeError("Feed server could not bind 127.0.0.1:%d" % self.port)
            time.sleep(0.05)
        self.port = port
        srv.start()
        self.server = srv

    def stop(self, grace=None):
        """Stops serving: grace None aborts every RPC and closes every
        connection at once."""
        if self.server is not None:
            self.server.stop(grace).wait(WAIT)
            self.server = None
        with self.cv:
            for qs in self.subscribers.values():
                for q in qs:
                    q.put(None)
            self.subscribers.clear()

    @property
    def url(self):
        return "grpc://127.0.0.1:%d" % self.port

    @staticmethod
    def _client(ctx):
        return dict(ctx.invocation_metadata()).get("faultline-client", "")

    def _hello(self, client_name, ctx):
        client = self._client(ctx)
        with self.cv:
            self.n += 1
            session = "%s/%s#%d" % (self.name, client, self.n)
            self.hellos.append((time.monotonic(), client, ctx.peer(), session, client_name))
            self.cv.notify_all()
        return session

    def _subscribe(self, topic, ctx):
        q = queue.Queue()
        with self.cv:
            self.subscribers.setdefault(topic, []).append(q)
            self.subscribes.append((time.monotonic(), self._client(ctx), topic))
            self.cv.notify_all()
        ctx.add_callback(lambda: q.put(None))
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                yield item
        finally:
            with self.cv:
                qs = self.subscribers.get(topic, [])
                if q in qs:
                    qs.remove(q)

    def _send(self, payload, ctx):
        n = wire.seq_of(payload)
        with self.cv:
            self.receives.append((time.monotonic(), self._client(ctx), n, payload))
            self.cv.notify_all()
        return n

    def _rows(self, rows, ctx):
        md = dict(ctx.invocation_metadata())
        with self.cv:
            self.rows.append((time.monotonic(), md.get("faultline-client", ""), md.get("faultline-request", ""), rows))
            self.cv.notify_all()
        for i in range(1, rows + 1):
            if not ctx.is_active():
                return
            time.sleep(self.row_ms / 1000.0)
            yield i

    def publish(self, topic):
        with self.cv:
            self.seq[topic] = self.seq.get(topic, 0) + 1
            for q in self.subscribers.get(topic, []):
                q.put(self.seq[topic])
            return self.seq[topic]

    def wait_subscribers(self, topic, n=1, timeout=WAIT):
        wait_until(lambda: len(self.subscribers.get(topic, [])) >= n, "%d subscriber(s) of %s" % (n, topic), timeout, self.cv)

    def wait_hellos(self, n, timeout=WAIT):
        wait_until(lambda: len(self.hellos) >= n, "%d Hello(s) at %s" % (n, self.name), timeout, self.cv)
        return list(self.hellos)

    def wait_receives(self, n, timeout=WAIT):
        wait_until(lambda: len(self.receives) >= n, "%d receive(s) at %s" % (n, self.name), timeout, self.cv)
        return list(self.receives)


class Relay:
    """A TCP front on 127.0.0.1 for a backend port: records each accept;
    mode "forward" relays, "close" accepts and closes at once (the interop
    test's retry server), "hold" accepts and never answers; blackhole() makes every relayed connection drop
    what it reads, both ways, while the sockets stay open."""

    def __init__(self, backend=None, mode="forward"):
        self.backend = backend
        self.mode = mode
        self.black = False
        self.accepts = []  # monotonic times
        self.cv = threading.Condition()
        self.socks = []
        self.ended = {}  # socket -> its pump (reading it) has ended
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "grpc://127.0.0.1:%d" % self.port

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            with self.cv:
                self.accepts.append(time.monotonic())
                self.cv.notify_all()
            if self.mode == "hold":  # accepted, never answered
                with self.cv:
                    self.socks.append(c)
                continue
            if self.mode == "close" or self.backend is None:
                c.close()
                continue
            try:
                b = socket.create_connection(("127.0.0.1", self.backend), timeout=WAIT)
                b.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.cv:
                self.socks += [c, b]
            threading.Thread(target=self._pump, args=(c, b), daemon=True).start()
            threading.Thread(target=self._pump, args=(b, c), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not self.black:
                    dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.cv:  # the second pump of the pair to end closes both
            self.ended[src] = True
            last = self.ended.get(dst, False)
        if last:
            for s in (src, dst):
                s.close()

    def blackhole(self, on=True):
        self.black = on

    def cut(self, mode="close"):
        """Switches to mode (later connections) and resets every relayed
        connection now."""
        self.mode = mode
        with self.cv:
            socks, self.socks = list(self.socks), []
        for s in socks:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.shutdown(socket.SHUT_RDWR)  # wakes the pump's recv(): close() alone would not
                s.close()
            except OSError:
                pass

    def wait_accepts(self, n, timeout=WAIT):
        wait_until(lambda: len(self.accepts) >= n, "%d accept(s) at relay :%d" % (n, self.port), timeout, self.cv)
        return list(self.accepts)

    def close(self):
        self.ls.close()
        with self.cv:
            socks = list(self.socks)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


class DriverProc:
    """The driver as the harness runs it; every line it writes is kept."""

    def __init__(self, env=None, args=()):
        e = dict(os.environ, FAULTLINE_SEED="1", FAULTLINE_DRIVER="7", PYTHONDONTWRITEBYTECODE="1")
        e.update(env or {})
        self.p = subprocess.Popen([sys.executable, DRIVER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=e)
        self.lines = []
        self.stamps = []  # monotonic arrival of each line
        self.cv = threading.Condition()
        self.eof = False
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.hello = self.wait_for(lambda l: "sdk" in l, "hello")
        self.next_id = 0

    def _read(self):
        for raw in self.p.stdout:
            line = json.loads(raw)  # every line must be JSON
            with self.cv:
                self.lines.append(line)
                self.stamps.append(time.monotonic())
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def _read_err(self):
        for raw in self.p.stderr:
            self.stderr += raw

    def write(self, raw):
        self.p.stdin.write(raw if isinstance(raw, bytes) else raw.encode())
        self.p.stdin.flush()

    def op(self, name, **fields):
        self.next_id += 1
        op = dict(fields, id=self.next_id, op=name)
        self.write(json.dumps(op) + "\n")
        return self.next_id

    def reply(self, op_id, timeout=WAIT):
        return self.wait_for(lambda l: l.get("re") == op_id, "reply to %d" % op_id, timeout)

    def do(self, name, timeout=WAIT, **fields):
        return self.reply(self.op(name, **fields), timeout)

    def wait_for(self, pred, what, timeout=WAIT, start=0):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for i, l in enumerate(self.lines[start:], start):
                    if pred(l):
                        return l
                left = end - time.monotonic()
                if left <= 0 or self.eof:
                    raise AssertionError("no %s in %s\nstderr: %s" % (what, json.dumps(self.lines, indent=1)[-4000:], self.stderr[-2000:].decode("utf-8", "replace")))
                self.cv.wait(min(left, 0.1))

    def index_of(self, line):
        with self.cv:
            return next(i for i, l in enumerate(self.lines) if l is line)

    def stamp(self, line):
        with self.cv:
            return self.stamps[self.index_of(line)]

    def state(self, to, timeout=WAIT, client=None, start=0):
        return self.wait_for(lambda l: l.get("type") == "state" and l.get("to") == to and l.get("client") == client,
                             "state %s" % to, timeout, start)

    def mark(self):
        with self.cv:
            return len(self.lines)

    def states(self, client=None):
        with self.cv:
            return [l for l in self.lines if l.get("type") == "state" and l.get("client") == client]

    def events(self, kind, client=None):
        with self.cv:
            return [l for l in self.lines if l.get("type") == kind and l.get("client") == client]

    def exit(self):
        """exit, then the process must end within 5 s."""
        t0 = time.monotonic()
        self.reply(self.op("exit"))
        rc = self.p.wait(5)
        return rc, time.monotonic() - t0

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(WAIT)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass


CLOSED = ("CLOSED_BY_CLIENT", "CLOSED_BY_SERVER", "CLOSED_FAILED")
PHASES = {"CONNECTING": "connecting", "CONNECTED_ACTIVE": "connected", "RECOVERING_RECONNECT": "recovering",
          "CLOSED_BY_CLIENT": "closed_by_client", "CLOSED_BY_SERVER": "closed_by_server", "CLOSED_FAILED": "closed_failed"}
NATIVE = ("IDLE", "CONNECTING", "READY", "TRANSIENT_FAILURE", "SHUTDOWN")


def check_lifecycle(tc, states):
    """U1: first CONNECTING without from; from = previous to; legal moves;
    nothing after a close; phase and a native name on every event."""
    legal = {None: {"CONNECTING"},
             "CONNECTING": {"CONNECTED_ACTIVE", *CLOSED},
             "CONNECTED_ACTIVE": {"RECOVERING_RECONNECT", "CONNECTING", *CLOSED},
             "RECOVERING_RECONNECT": {"CONNECTED_ACTIVE", "CONNECTING", *CLOSED}}
    prev = None
    for e in states:
        tc.assertEqual(e.get("from"), prev, e)
        tc.assertIn(e["to"], legal.get(prev, set()), e)
        tc.assertEqual(e["phase"], PHASES[e["to"]], e)
        tc.assertTrue(e.get("native"), e)
        if e["to"] in CLOSED:
            tc.assertTrue(e.get("reason"), e)
        prev = e["to"]

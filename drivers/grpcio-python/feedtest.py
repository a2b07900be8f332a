"""Test helpers: an in-process Feed server (grpcio's own server with
generic handlers, speaking the gRPC pack's wire agreement), a TCP relay in
front of it that can blackhole or accept-and-close, and the driver as a
process. Every wait has a deadline.
"""

import os
import queue
import socket
import threading
import time
from concurrent import futures

import grpc

import kitpath  # noqa: F401
import kittest
import wire
from kittest import WAIT, check_lifecycle, free_port, wait_until  # noqa: F401  (the tests' helpers)

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "driver.py")


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


def DriverProc(env=None, args=()):
    """This driver as the harness runs it (kittest.DriverProc)."""
    return kittest.DriverProc(DRIVER, env=env, args=args)

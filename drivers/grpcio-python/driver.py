#!/usr/bin/python3
"""faultline's driver for the real Python gRPC client grpcio 1.51.1.

It speaks faultline's driver protocol (docs/driver-protocol.md):
newline-delimited JSON, ops on stdin, replies and events on stdout, logs on
stderr. One process hosts up to SESSIONS clients, each a grpcio channel
over the gRPC pack's Feed service (no protoc: the wrappers are hand-coded in
wire.py). Connection management is grpcio's own (the C core's pick_first
and subchannel back-off), configured through channel args; what the driver
adds is listed in each connect reply's contract (driver_adds), what it
cannot express in `unsupported` (contract.py).

Only the standard library and grpcio (Debian's python3-grpcio, for
/usr/bin/python3) are used.
"""

import json
import os
import queue
import sys
import threading
import time

sys.dont_write_bytecode = True  # the launcher runs from the source tree

import grpc  # noqa: E402

import contract  # noqa: E402
from session import Session, is_closed, log  # noqa: E402

VERSION = grpc.__version__

# How many clients one process hosts. Each channel costs grpcio's
# connectivity poller thread (woken every 0.2 s: grpc/_channel.py
# _poll_connectivity()), a worker and a thread per open stream.
SESSIONS = 64

EXIT_WAIT = 3.0  # exit: every session's close together, then the replies

# Why run-time discovery (docs/driver-protocol.md, Routing) cannot be served:
# the channel's addresses are its target's, fixed when it is made.
DISCOVERY_REFUSED = ("grpcio-python: %s cannot be served: a grpcio channel's addresses are its target's, "
                     "an ipv4: list fixed at grpc.insecure_channel(target) (grpc/_channel.py Channel.__init__()); "
                     "the C core's ipv4: resolver parses it once (sockaddr_resolver.cc ParseUri()) and a re-resolution "
                     "gives the same list; grpcio's Python API has no resolver to register or update (no "
                     "resolver in grpc/__init__.py): a new list means a new channel, which is no run-time update")


# ---------------------------------------------------------------------------
# Output: every line through one writer thread, so that no caller (the
# stdin loop, grpcio's threads) waits on a slow stdout, and lines are
# never interleaved. Each line is flushed as it is written.

class Output:
    def __init__(self, stream):
        self.stream = stream
        self.q = queue.Queue()
        self.cv = threading.Condition()
        self.pending = 0
        self.broken = False
        threading.Thread(target=self._loop, name="output", daemon=True).start()

    def send(self, obj):
        line = (json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
        with self.cv:
            self.pending += 1
        self.q.put(line)

    def _loop(self):
        while True:
            batch = [self.q.get()]
            while True:
                try:
                    batch.append(self.q.get_nowait())
                except queue.Empty:
                    break
            if not self.broken:
                try:
                    self.stream.write(b"".join(batch))
                    self.stream.flush()
                except (OSError, ValueError):
                    self.broken = True  # the harness is gone; keep draining
            with self.cv:
                self.pending -= len(batch)
                self.cv.notify_all()

    def flush(self, timeout):
        end = time.monotonic() + timeout
        with self.cv:
            while self.pending > 0:
                left = end - time.monotonic()
                if left <= 0:
                    return
                self.cv.wait(left)


def client_name(environ, op, key):
    """c<index>: the op's client index, else the process's own
    (FAULTLINE_DRIVER - 1, the op's driver - 1)."""
    if key is not None:
        return "c%d" % key
    num = op.get("driver")
    if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
        try:
            num = int(environ.get("FAULTLINE_DRIVER", "0") or "0")
        except ValueError:
            num = 0
    return "c%d" % max(num - 1, 0)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


# ---------------------------------------------------------------------------
# The driver: ops in, sessions by client.

class Driver:
    def __init__(self, out, environ, sessions=SESSIONS):
        self.out = out
        self.environ = environ
        self.max_sessions = sessions
        self.mu = threading.Lock()
        self.sessions = {}  # client key (None: default) -> Session
        self.multi = False
        self.exiting = False
        self.ops = set()  # threads of ops under way

    def reply(self, op_id, err=None, contract_=None):
        r = {"re": op_id, "ok": err is None}
        if err is not None:
            r["error"] = err
        if contract_ is not None:
            r["contract"] = contract_
        self.out.send(r)

    def bad_line(self, text, client=None):
        log(text)
        # An event without "client" fails a multi-session driver (the
        # harness cannot tell whose it is): then stderr only.
        if client is not None:
            self.out.send({"type": "error", "text": "driver: " + text, "client": client})
        elif not self.multi:
            self.out.send({"type": "error", "text": "driver: " + text})

    def line(self, raw):
        """Handles one op line; returns True when the driver should exit."""
        if not raw.strip():
            return False
        try:
            op = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            self.bad_line("bad op line: %s" % e)
            return False
        if not isinstance(op, dict):
            self.bad_line("bad op line: not a JSON object")
            return False
        client = op.get("client")
        good_client = _int(client) and client >= 0
        if good_client:
            self.multi = True
        op_id = op.get("id")
        if not _int(op_id):
            text = raw[:200].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:200]
            self.bad_line("op without an integer id: %s" % text.strip(), client if good_client else None)
            return False
        name = op.get("op")
        if name == "probe":
            self.reply(op_id)
            return False
        if name == "exit":
            with self.mu:
                self.exiting = True
            self.reply(op_id)
            return True
        if "client" in op and not good_client:
            self.reply(op_id, "bad client %r: want an index >= 0" % (client,))
            return False
        with self.mu:
            if self.exiting:
                self.reply(op_id, "driver is exiting")
                return False
            t = threading.Thread(target=self._run, args=(op, op_id, name, client if good_client else None), daemon=True)
            self.ops.add(t)
        t.start()
        return False

    def _run(self, op, op_id, name, key):
        try:
            err, c = self.do(op, op_id, name, key)
        except Exception as e:  # a bug here must not leave the op unanswered
            log("op %s: %r" % (name, e))
            err, c = "driver: %s: %s" % (type(e).__name__, e), None
        self.reply(op_id, err, c)
        with self.mu:
            self.ops.discard(threading.current_thread())

    def session(self, key):
        with self.mu:
            return self.sessions.get(key)

    def do(self, op, op_id, name, key):
        if name == "connect":
            return self.connect(op, key)
        s = self.session(key)
        if name in ("subscribe", "send", "close", "request", "cancel") and s is None:
            return "not connected", None
        if name == "subscribe":
            topic = op.get("topic")
            if not isinstance(topic, str) or not topic:
                return "subscribe: no topic", None
            return s.subscribe(topic), None
        if name == "send":
            return s.send(op.get("payload")), None
        if name == "request":
            rows = op.get("rows")
            if not _int(rows) or rows < 0:
                return "request: rows %r: want an integer >= 0" % (rows,), None
            return s.request(op_id, rows), None
        if name == "cancel":
            req = op.get("request")
            if not _int(req):
                return "cancel: request %r: want the request op's id" % (req,), None
            return s.cancel(req), None
        if name == "close":
            s.close()
            return None, None
        if name in ("discovery.add", "discovery.remove"):
            return DISCOVERY_REFUSED % name, None
        return "unknown op %s" % json.dumps(name), None

    def connect(self, op, key):
        try:
            plan, c = contract.plan_for(op.get("servers"), op.get("options"), self.environ)
        except contract.BadOptions as e:
            return str(e), None
        name = client_name(self.environ, op, key)
        c["params"]["client"] = name
        with self.mu:
            old = self.sessions.get(key)
            if old is not None and not is_closed(old.state):
                return "already connected", None
            if old is None and len(self.sessions) >= self.max_sessions + 1:
                return "this process hosts %d sessions already" % self.max_sessions, None
            s = Session(self.out, key, name, plan)
            self.sessions[key] = s
        return s.connect(), c

    def shutdown(self):
        """Closes every session together (bounded), waits for the replies
        of ops under way, flushes."""
        with self.mu:
            self.exiting = True
            all_sessions = list(self.sessions.values())
        closers = [threading.Thread(target=s.close, daemon=True) for s in all_sessions]
        for t in closers:
            t.start()
        end = time.monotonic() + EXIT_WAIT
        for t in closers:
            t.join(max(0, end - time.monotonic()))
        with self.mu:
            ops = list(self.ops)
        for t in ops:
            t.join(max(0, end - time.monotonic()))
        self.out.flush(1.0)


def sessions_arg(argv):
    if "--sessions" not in argv:
        return SESSIONS
    i = argv.index("--sessions")
    try:
        n = int(argv[i + 1])
        if n < 1:
            raise ValueError
    except (IndexError, ValueError):
        sys.stderr.write("usage: driver.py [--sessions N]  (N an integer >= 1, default %d)\n" % SESSIONS)
        sys.exit(2)
    return n


def main():
    sessions = sessions_arg(sys.argv[1:])
    out = Output(sys.stdout.buffer)
    out.send(contract.hello(VERSION, sessions))
    d = Driver(out, os.environ, sessions)
    for raw in sys.stdin.buffer:
        try:
            if d.line(raw):
                break
        except Exception as e:  # a bad line never ends the driver
            log("line: %r" % e)
    d.shutdown()
    # grpcio's threads are daemons; leave without grpc's own shutdown.
    os._exit(0)


if __name__ == "__main__":
    main()

"""Test helpers every Python driver's tests share: the driver as the harness
runs it (a process on stdin/stdout whose every line is kept), a free port,
a bounded wait, and the lifecycle rule (U1) checked over a state list.
Every wait has a deadline.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import driverkit

WAIT = 10.0  # every wait has this deadline unless it says otherwise


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(pred, what, timeout=WAIT, cv=None):
    """pred()'s first true value, polled until timeout; else AssertionError."""
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


class DriverProc:
    """A driver as the harness runs it; every line it writes is kept, with
    its arrival time, and its stderr too. drop_env names variables of this
    process's environment the driver must not inherit."""

    def __init__(self, driver, env=None, args=(), drop_env=()):
        e = dict(os.environ, FAULTLINE_SEED="1", FAULTLINE_DRIVER="7", PYTHONDONTWRITEBYTECODE="1")
        for k in drop_env:
            e.pop(k, None)
        e.update(env or {})
        self.p = subprocess.Popen([sys.executable, driver, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=e)
        self.lines = []
        self.stamps = []  # monotonic arrival of each line
        self.cv = threading.Condition()
        self.eof = False
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.next_id = 0
        self.hello = self.wait_for(lambda l: "sdk" in l, "hello")

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
                for l in self.lines[start:]:
                    if pred(l):
                        return l
                left = end - time.monotonic()
                if left <= 0 or self.eof:
                    raise AssertionError("no %s in %s\nstderr: %s" % (
                        what, json.dumps(self.lines, indent=1)[-4000:], self.stderr[-2000:].decode("utf-8", "replace")))
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


def check_lifecycle(tc, states):
    """U1 over one client's state events: the first is CONNECTING without
    from, each from is the previous to, every move is legal, nothing follows
    a close, and every event has its phase and a native name (a close a
    reason too)."""
    prev = None
    for e in states:
        tc.assertEqual(e.get("from"), prev, e)
        tc.assertTrue(driverkit.legal(prev, e["to"]), e)
        tc.assertEqual(e["phase"], driverkit.PHASES[e["to"]], e)
        tc.assertTrue(e.get("native"), e)
        if driverkit.is_closed(e["to"]):
            tc.assertTrue(e.get("reason"), e)
        prev = e["to"]

"""What every Python driver of a real client library shares: the lifecycle
states and their rule (U1), one writer thread for stdout, a stderr logger,
the message numbering of the driver protocol, and typed option readers.

The drivers under drivers/ (paho-mqtt-python, grpcio-python) put this
folder on sys.path and import it; each keeps only its library's own
mapping. Standard library only: it runs under Debian's /usr/bin/python3.
"""

import json
import queue
import sys
import threading
import time

# faultline's states (docs/driver-protocol.md, States).
CONNECTING = "CONNECTING"
ACTIVE = "CONNECTED_ACTIVE"
RECOVERING = "RECOVERING_RECONNECT"
BY_CLIENT = "CLOSED_BY_CLIENT"
BY_SERVER = "CLOSED_BY_SERVER"
FAILED = "CLOSED_FAILED"
CLOSED = (BY_CLIENT, BY_SERVER, FAILED)
PHASES = {
    CONNECTING: "connecting", ACTIVE: "connected", RECOVERING: "recovering",
    BY_CLIENT: "closed_by_client", BY_SERVER: "closed_by_server", FAILED: "closed_failed",
}


def is_closed(state):
    return state in CLOSED


def legal(frm, to):
    """The lifecycle rule U1's transitions: CONNECTING first, a close last."""
    if frm is None:
        return to == CONNECTING
    if frm == CONNECTING:
        return to == ACTIVE or is_closed(to)
    if frm in (ACTIVE, RECOVERING):
        return to in (ACTIVE, RECOVERING, CONNECTING) or is_closed(to)
    return False


class Output:
    """Every line through one writer thread, so that no caller (the stdin
    loop, the library's threads) waits on a slow stdout, and lines are never
    interleaved. Each batch is flushed as it is written; once the harness is
    gone (a broken pipe) lines are drained and dropped."""

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
        """Wait, at most timeout seconds, until every line sent is written."""
        end = time.monotonic() + timeout
        with self.cv:
            while self.pending > 0:
                left = end - time.monotonic()
                if left <= 0:
                    return
                self.cv.wait(left)


def logger(name):
    """A log function writing "<name> driver: msg" lines to stderr, which
    never raises (stderr may be closed while the driver ends)."""
    def log(msg):
        try:
            sys.stderr.write("%s driver: %s\n" % (name, msg))
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
    return log


def seq_of(payload):
    """A message's number: {"n": N} (or {"seq": N}) or a bare integer; else 0."""
    try:
        v = json.loads(payload)
    except (ValueError, UnicodeDecodeError, TypeError):
        return 0
    if isinstance(v, dict):
        v = v.get("n", v.get("seq"))
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    return 0


class BadOptions(ValueError):
    """A connect op's options that cannot be read: the op's error reply."""


def option(d, key, kind, default):
    """d[key] as kind (int and float convert when exact; bool is never a
    number), default when absent or null; else BadOptions naming the key."""
    v = d.get(key, default) if isinstance(d, dict) else default
    if v is None:
        return default
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if kind is int and isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, kind) or (kind in (int, float) and isinstance(v, bool)):
        raise BadOptions("option %s: want %s, got %r" % (key, kind.__name__, v))
    return v


def block(d, key):
    """d[key], an object ({} when absent or null); else BadOptions."""
    v = d.get(key) if isinstance(d, dict) else None
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise BadOptions("option %s: want an object" % key)
    return v


def is_int(v):
    """An integer that is not a bool (JSON's true is no id or index)."""
    return isinstance(v, int) and not isinstance(v, bool)


class Host:
    """The stdin side of a driver (docs/driver-protocol.md): one op line at
    a time, each op on a thread of its own so that a slow connect holds up no
    other client, probe and exit answered at once, a reply for every op with
    an id, and the sessions by client (None: the single-session default).

    A driver subclasses it and implements do(op, op_id, name, key) ->
    (error or None, contract or None); a bug raised there still answers the
    op. shutdown() closes every session together, bounded by exit_wait.
    """

    def __init__(self, out, environ, sessions, log, exit_wait=3.0):
        self.out = out
        self.environ = environ
        self.max_sessions = sessions
        self.log = log
        self.exit_wait = exit_wait
        self.mu = threading.Lock()
        self.sessions = {}  # client key (None: default) -> session
        self.multi = False
        self.exiting = False
        self.ops = set()  # threads of ops under way

    def do(self, op, op_id, name, key):
        raise NotImplementedError

    def reply(self, op_id, err=None, contract=None):
        r = {"re": op_id, "ok": err is None}
        if err is not None:
            r["error"] = err
        if contract is not None:
            r["contract"] = contract
        self.out.send(r)

    def bad_line(self, text, client=None):
        self.log(text)
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
        good_client = is_int(client) and client >= 0
        if good_client:
            self.multi = True
        op_id = op.get("id")
        if not is_int(op_id):
            text = raw[:200].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:200]
            # Nothing to reply to: a reply needs the op's id.
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
            err, contract = self.do(op, op_id, name, key)
        except Exception as e:  # a bug here must not leave the op unanswered
            self.log("op %s: %r" % (name, e))
            err, contract = "driver: %s: %s" % (type(e).__name__, e), None
        self.reply(op_id, err, contract)
        with self.mu:
            self.ops.discard(threading.current_thread())

    def session(self, key):
        with self.mu:
            return self.sessions.get(key)

    def room_for(self, key):
        """Why a connect for key cannot have a new session (None when it
        can): one still open, or the process full. self.mu is held."""
        old = self.sessions.get(key)
        if old is not None and not is_closed(old.state):
            return "already connected"
        if old is None and len(self.sessions) >= self.max_sessions + 1:
            return "this process hosts %d sessions already" % self.max_sessions
        return None

    def shutdown(self):
        """Closes every session together (bounded), waits for the replies
        of ops under way, flushes."""
        with self.mu:
            self.exiting = True
            all_sessions = list(self.sessions.values())
        closers = [threading.Thread(target=s.close, daemon=True) for s in all_sessions]
        for t in closers:
            t.start()
        end = time.monotonic() + self.exit_wait
        for t in closers:
            t.join(max(0, end - time.monotonic()))
        with self.mu:
            ops = list(self.ops)
        for t in ops:
            t.join(max(0, end - time.monotonic()))
        self.out.flush(1.0)


def sessions_arg(argv, default):
    """--sessions N from argv (default when absent); a bad N exits 2."""
    if "--sessions" not in argv:
        return default
    i = argv.index("--sessions")
    try:
        n = int(argv[i + 1])
        if n < 1:
            raise ValueError
    except (IndexError, ValueError):
        sys.stderr.write("usage: driver.py [--sessions N]  (N an integer >= 1, default %d)\n" % default)
        sys.exit(2)
    return n


def serve(host, stdin):
    """Feeds stdin's op lines to host until exit or EOF, then shuts it
    down. A bad line never ends the driver."""
    for raw in stdin:
        try:
            if host.line(raw):
                break
        except Exception as e:
            host.log("line: %r" % e)
    host.shutdown()

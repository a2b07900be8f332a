#!/usr/bin/python3
"""faultline's driver for the real Python MQTT client paho-mqtt 1.6.1.

It speaks faultline's driver protocol (docs/driver-protocol.md):
newline-delimited JSON, ops on stdin, replies and events on stdout, logs on
stderr. One process hosts up to SESSIONS clients, each a paho Client with
its own network thread (loop_start()). Everything a session does is paho's
own connection management, configured through its public API; what the
driver adds on top is listed in each connect reply's contract
(`driver_adds`), what it cannot express in `unsupported`.

Only the standard library and paho (Debian's python3-paho-mqtt, for
/usr/bin/python3) are used.
"""

import json
import os
import sys
import threading
import time
import urllib.parse

import paho.mqtt
import paho.mqtt.client as mqtt

# The kit every Python driver shares (drivers/pykit).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pykit"))
import driverkit  # noqa: E402
from driverkit import (ACTIVE, BY_CLIENT, BY_SERVER, CONNECTING, FAILED, PHASES,  # noqa: E402,F401
                       RECOVERING, BadOptions, Output, is_closed, legal, seq_of)
from driverkit import block as _block  # noqa: E402
from driverkit import option as _get  # noqa: E402

SDK = "paho-mqtt-python"
VERSION = paho.mqtt.__version__
PROTOCOL = "mqtt"

# How many clients one process hosts. paho waits with select.select(), which
# cannot watch a descriptor above 1023, and every client holds three (its
# socket and loop_start()'s socket pair): 200 clients stay well below.
SESSIONS = 200

DEFAULT_TOPIC = "faultline/send"  # a send without a topic (the brief)
CLOSE_WAIT = 2.0  # a close waits this long for paho to end the connection
EXIT_WAIT = 3.0  # exit: every session's close together, then the replies
FIRST_CONNECT_CAP = 8.0  # the connect op answers before the harness's 10 s op timeout
DEFAULT_DIAL_TIMEOUT = 5.0  # paho's own: Client.__init__ self._connect_timeout = 5.0
DEFAULT_KEEPALIVE = 60  # Client.connect(keepalive=60)

log = driverkit.logger(SDK)

# ---------------------------------------------------------------------------
# The contract: each term with a citation to paho's source at 1.6.1.

SRC = "paho-mqtt 1.6.1 paho/mqtt/client.py"
CITE = {
    "first_attempt": SRC + " Client.loop_forever() (:1715; loop_start()'s thread runs it, _thread_main() :3590): after a loss it calls self._reconnect_wait() (:1773) before self.reconnect(), so the first attempt comes after the minimum delay (reconnect_delay_set(min_delay=1, max_delay=120) :999)",
    "delay_applies": SRC + " Client.loop_forever(): one host (connect(host, port)), so every attempt is preceded by its own _reconnect_wait()",
    "delay": SRC + " Client._reconnect_wait() (:3593): _reconnect_delay = min_delay when None, else min(_reconnect_delay * 2, max_delay), slept in slices of at most 1 s (time.sleep(min(remaining, 1)) :3612); the factor 2 is hard-coded",
    "jitter": SRC + " Client._reconnect_wait(): target_time = now + self._reconnect_delay, no random term",
    "reset": SRC + " Client._handle_connack() (:3067): CONNACK 0 sets self._reconnect_delay = None (:3114), so the next outage starts again at min_delay; a refused CONNACK or a connection lost before CONNACK does not reset it",
    "attempt_limit": SRC + " Client.loop_forever(): the reconnect loop goes on while not should_exit() and _reconnect_on_failure (:1770); nothing counts attempts",
    "failover": SRC + " Client.reconnect() (:1012) always dials self._host, self._port as set by connect()/connect_async() (:957): one host, so every attempt goes to the top (and only) server",
    "shuffle": SRC + " Client.connect(host, port) (:885): one host, no server list to shuffle",
    "first_connect": SRC + " Client.connect() (:885) -> reconnect() -> _create_socket_connection() (:3671): one host; socket.create_connection()'s OSError is raised to the caller",
    "liveness": SRC + " Client._check_keepalive() (:2531), run by loop_misc() (:1601) on every loop pass, at least once a second (loop_forever(timeout=1.0)): when now - last_msg_out >= keepalive or now - last_msg_in >= keepalive on a connected client with no ping out it sends PINGREQ (_send_pingreq() sets _ping_t) and sets last_msg_in = last_msg_out = now; a ping still unanswered keepalive later closes the socket, on_disconnect(rc=MQTT_ERR_KEEPALIVE 16) (loop_misc() :1612). Before CONNACK the same check closes the socket after keepalive: the CONNACK wait is bounded by keepalive only. keepalive is whole seconds (struct '!H' in _send_connect()), connect(keepalive=60) by default",
    "overall_timeout": SRC + " Client.loop_forever(): no deadline on the reconnect loop; it ends only on disconnect() (state mqtt_cs_disconnecting), loop_stop() (_thread_terminate) or with reconnect_on_failure=False",
    "lame_duck": SRC + " Client._packet_handle() (:3022): a server's DISCONNECT is handled for MQTTv5 only; MQTT 3.1.1 has no going-away notice or server reference, a broker can only close the connection",
    "at_most_once": SRC + " Client.publish() (:1187) at QoS 0: _send_publish() (:2628) queues the packet on _out_packet while _sock is set, else returns MQTT_ERR_NO_CONN keeping nothing; reconnect() resets _out_packet = deque() (:1030), dropping QoS 0 packets not yet written at the loss; nothing is acknowledged or resent",
    "at_least_once": SRC + " Client.publish() (:1187) at QoS 1 keeps the message in _out_messages until its PUBACK (_handle_pubackcomp() -> _do_on_publish() pops it); reconnect() -> _messages_reconnect_reset_out() (:2945) marks those waiting for PUBACK dup=True, state mqtt_ms_publish, and _handle_connack() resends them all in order after CONNACK 0, whatever clean_session (not consulted for QoS 1: with clean_session=True the broker forgot the packet ids, so a resend may duplicate). Incoming QoS 1: _handle_publish() (:3271) calls on_message before queuing the PUBACK, so a loss in between makes a kept session redeliver (dup)",
    "buffer_none": SRC + " Client._send_publish() (:2628): at QoS 0, while _sock is None (from the loss until reconnect() has a new socket) publish() returns MQTT_ERR_NO_CONN (rc 4) and the message is dropped",
    "buffer_reconnecting": SRC + " Client.publish() (:1187) at QoS 1 while not connected: the message is stored in _out_messages (state mqtt_ms_publish, '# remove from inflight messages so it will be send after a connection is made' :1290) and publish() returns rc MQTT_ERR_NO_CONN all the same; _handle_connack() sends it after CONNACK 0; max_queued_messages_set(n) (:1635, default 0 = unlimited) refuses (MQTT_ERR_QUEUE_SIZE) once n messages are unacknowledged",
    "discovery": SRC + " Client.connect(): only the host given is kept (self._host); an MQTT 3.1.1 CONNACK advertises no other servers",
    "refusal": SRC + " Client._handle_connack() (:3067): a CONNACK with return code 1-5 calls on_connect(rc) and returns MQTT_ERR_CONN_REFUSED (:3211); loop_read() -> _loop_rc_handle() closes the socket and calls on_disconnect(rc=5), which ends loop_forever()'s inner loop (:1756); with reconnect_on_failure it then sleeps _reconnect_wait() (:1773) and calls reconnect() (:1780): a refusal is retried like a lost connection, on the one host, for ever, its delay doubling on (_reconnect_delay is reset only by CONNACK 0, :3114). Return code 1 to an MQTT 3.1.1 client is the exception: _handle_connack() downgrades to MQTT 3.1 for good and re-dials at once (:3089)",
    "refusal_ends": SRC + " Client.loop_forever(): with Client(reconnect_on_failure=False) the refusal's MQTT_ERR_CONN_REFUSED ends the loop (:1770): no further attempt (return code 1 or 2 gives MQTT_ERR_PROTOCOL at once, :3090)",
    "resubscribe": SRC + " Client.reconnect() (:1012) resets _out_packet (:1030) and _handle_connack() (:3146) sends again only the messages of _out_messages: paho never sends a SUBSCRIBE again, so after a reconnect onto a session the broker does not hold (a clean session, or CONNACK session present 0) the client has no subscription (its documented pattern: subscribe in on_connect)",
    "close_error": SRC + " Client.connect() -> reconnect() -> _create_socket_connection() (:3671): the one host's socket error (OSError from socket.create_connection(), e.g. '[Errno 111] Connection refused', naming no address) is raised as is; a refused CONNACK reaches only on_connect(rc) and on_disconnect(rc=MQTT_ERR_CONN_REFUSED 5)",
}


def term(value, cite):
    return {"value": value, "cite": cite}


def builtin():
    """paho's contract with its defaults (QoS 0 publishes, min_delay 1 s,
    max_delay 120 s, keepalive 60 s, reconnecting on)."""
    return {
        "first_attempt": term("after_delay", CITE["first_attempt"]),
        "delay_applies": term("per_attempt", CITE["delay_applies"]),
        "delay": term("exponential", CITE["delay"] + "; defaults 1 s doubling to 120 s"),
        "jitter": term("none", CITE["jitter"]),
        "reset": term("on_success", CITE["reset"]),
        "attempt_limit": term("none", CITE["attempt_limit"]),
        "failover": term("top", CITE["failover"]),
        "shuffle": term("none", CITE["shuffle"]),
        "first_connect": term("single", CITE["first_connect"]),
        "liveness": term("ping", CITE["liveness"]),
        "overall_timeout": term("none", CITE["overall_timeout"]),
        "lame_duck": term("none", CITE["lame_duck"]),
        "delivery": term("at_most_once", CITE["at_most_once"] + " (publish(qos=0) is the default; at QoS 1 it is at least once: " + CITE["at_least_once"] + ")"),
        "buffer": term("none", CITE["buffer_none"] + " (at QoS 1 messages are kept while reconnecting: " + CITE["buffer_reconnecting"] + ")"),
        "discovery": term("ignore", CITE["discovery"]),
        "close_error": term("last_error", CITE["close_error"]),
        "refusal": term("retry", CITE["refusal"]),
        "resubscribe": term("none", CITE["resubscribe"]),
    }


def hello(sessions=SESSIONS):
    h = {"sdk": SDK, "version": VERSION, "protocol": PROTOCOL,
         # paho-mqtt 1.6.1 takes one host: no failover, cascading or load
         # balancing; MQTT 3.1.1 has no migration or discovery.
         "features": ["reconnect"], "contract": builtin()}
    if sessions > 1:
        h["sessions"] = sessions
    return h


# ---------------------------------------------------------------------------
# Options: the connect op's options onto paho's public API.

AGAINST_ENV = "FAULTLINE_MQTT_AGAINST"
AGAINST = ("no_reconnect", "clean_session", "no_resubscribe")


def parse_server(url):
    """host, port of an mqtt:// (or tcp://) URL; 1883 by default."""
    if not isinstance(url, str) or not url:
        raise BadOptions("server %r: want an mqtt://host:port URL" % (url,))
    u = urllib.parse.urlsplit(url if "://" in url else "mqtt://" + url)
    if u.scheme not in ("mqtt", "tcp"):
        raise BadOptions("server %s: scheme %r, want mqtt:// (paho-mqtt-python speaks MQTT over TCP here)" % (url, u.scheme))
    try:
        port = u.port or 1883
    except ValueError as e:
        raise BadOptions("server %s: %s" % (url, e))
    if not u.hostname:
        raise BadOptions("server %s: no host" % url)
    return u.hostname, port


def against(environ):
    out = [a.strip() for a in environ.get(AGAINST_ENV, "").split(",") if a.strip()]
    for a in out:
        if a not in AGAINST:
            raise BadOptions("%s: unknown setting %r (%s)" % (AGAINST_ENV, a, ", ".join(AGAINST)))
    return out


def keepalive_for(liveness_ms):
    """The whole-second keepalive K whose worst detection fits liveness L.

    After the link goes silent paho sends PINGREQ within K (+ one loop tick,
    at most 1 s) and gives up K (+ a tick) later: detection within
    (K, 2K + 2) s. K = floor((L - 2) / 2), at least 1."""
    if liveness_ms <= 0:
        return DEFAULT_KEEPALIVE, None
    k = max(1, int((liveness_ms / 1000.0 - 2) // 2))
    worst = 2 * k + 2
    if worst * 1000 > liveness_ms:
        return k, ("liveness %d ms cannot be met: paho's keepalive is whole seconds, at least 1 (struct '!H' in _send_connect()), "
                   "and a silent link is given up within (K, 2K + 2) s (_check_keepalive() on loop ticks of up to 1 s); "
                   "keepalive %d s detects within %d s" % (liveness_ms, k, worst))
    return k, None


def plan_for(servers, options, environ):
    """What a connect asks of paho, and the effective contract."""
    if not isinstance(servers, list) or not servers:
        raise BadOptions("connect: no servers")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise BadOptions("options: want an object")
    host, port = parse_server(servers[0])
    c = builtin()
    unsup, adds = [], []
    p = {"url": servers[0], "host": host, "port": port, "protocol": "MQTTv311"}

    if len(servers) > 1:
        unsup.append({"option": "servers", "reason": "paho-mqtt 1.6.1 takes one host (Client.connect(host, port)): connected to %s only; not used: %s" % (servers[0], ", ".join(str(s) for s in servers[1:]))})
    fo = _block(options, "failover")
    for k in ("auto", "load_balancing", "cascading"):
        if _get(fo, k, bool, False) and len(servers) > 1:
            unsup.append({"option": "failover." + k, "reason": "paho-mqtt 1.6.1 has one host: no server list to fail over, balance or cascade over (Client.reconnect() dials self._host)"})

    keep = _get(options, "keep_session", bool, False)
    p["clean_session"] = not keep
    delivery = _get(options, "delivery", str, "")
    if delivery in ("", "at_most_once"):
        p["qos"] = 0
    elif delivery == "at_least_once":
        p["qos"] = 1
    else:
        p["qos"] = 0
        unsup.append({"option": "delivery", "reason": "%r is not one of at_most_once (QoS 0), at_least_once (QoS 1): QoS 0 used" % delivery})
    p["username"] = _get(options, "principal", str, "") or None
    p["password"] = _get(options, "credentials", str, "") or None

    # Reconnection.
    r = _block(options, "reconnect")
    p["reconnect_on_failure"] = _get(r, "enabled", bool, True)
    st = _block(r, "strategy")
    p["min_delay_s"], p["max_delay_s"] = 1.0, 120.0  # reconnect_delay_set() defaults
    initial = _get(st, "initial_ms", float, 0.0)
    backoff = _get(st, "backoff", str, "")
    if initial > 0:
        if backoff == "fixed":
            p["min_delay_s"] = p["max_delay_s"] = initial / 1000.0
            c["delay"] = term("constant", CITE["delay"] + "; reconnect_delay_set(%g, %g): min(d * 2, d) = d every time" % (p["min_delay_s"], p["max_delay_s"]))
        else:
            mx = _get(st, "max_ms", float, 0.0)
            p["min_delay_s"] = initial / 1000.0
            if mx > 0:
                p["max_delay_s"] = max(mx, initial) / 1000.0
            else:
                unsup.append({"option": "reconnect.strategy.max_ms", "reason": "no cap asked: paho always caps (max_delay), left at its default 120 s"})
            c["delay"] = term("exponential", CITE["delay"] + "; reconnect_delay_set(%g, %g)" % (p["min_delay_s"], p["max_delay_s"]))
            mult = _get(st, "multiplier", float, 0.0)
            if mult not in (0.0, 2.0):
                unsup.append({"option": "reconnect.strategy.multiplier", "reason": "%g cannot be expressed: paho doubles the delay (min(_reconnect_delay * 2, max_delay) in _reconnect_wait())" % mult})
    if _get(st, "jitter", float, 0.0) > 0:
        unsup.append({"option": "reconnect.strategy.jitter", "reason": "paho's _reconnect_wait() has no jitter: target_time = now + delay"})
    if _get(st, "attempts", int, 0) > 0:
        unsup.append({"option": "reconnect.strategy.attempts", "reason": "paho has no attempt limit: loop_forever() reconnects until disconnect() or loop_stop(); the driver does not emulate one"})
    if _get(r, "timeout_ms", int, 0) > 0 and p["reconnect_on_failure"]:
        unsup.append({"option": "reconnect.timeout_ms", "reason": "paho has no overall reconnection deadline (loop_forever()); the driver does not emulate one"})
    if _get(r, "retention_ms", int, 0) > 0:
        unsup.append({"option": "reconnect.retention_ms", "reason": "an MQTT 3.1.1 client cannot ask how long the broker keeps its session (clean session is a flag; the expiry is the broker's configuration)"})
    buf = _get(r, "buffer", int, 0)
    p["max_queued_messages"] = 0
    if buf > 0:
        if p["qos"] > 0:
            p["max_queued_messages"] = buf
        else:
            unsup.append({"option": "reconnect.buffer", "reason": "at QoS 0 paho buffers nothing while disconnected (_send_publish() returns MQTT_ERR_NO_CONN); max_queued_messages_set() counts QoS > 0 messages only"})

    # Timeouts and liveness.
    ct = _get(options, "connect_timeout_ms", int, 0)
    p["dial_timeout_s"] = ct / 1000.0 if ct > 0 else DEFAULT_DIAL_TIMEOUT
    p["first_connect_deadline_s"] = min(p["dial_timeout_s"], FIRST_CONNECT_CAP)
    live = _get(options, "liveness_ms", int, 0)
    p["keepalive_s"], why = keepalive_for(live)
    if why:
        unsup.append({"option": "liveness_ms", "reason": why})
    if live > 0:
        c["liveness"] = term("ping", CITE["liveness"] + "; keepalive %d s: a silent link is given up within (%d, %d) s" % (p["keepalive_s"], p["keepalive_s"], 2 * p["keepalive_s"] + 2))
    if ct > 0:
        adds.append({"what": "dial timeout %g s (Client._connect_timeout, read by _create_socket_connection())" % p["dial_timeout_s"],
                     "why": "options.connect_timeout_ms: paho 1.6.1 has no public setter for its 5 s dial timeout (Client.__init__ self._connect_timeout = 5.0)"})
        unsup.append({"option": "connect_timeout_ms", "reason": "bounds the TCP dial only: after it paho waits for CONNACK as long as keepalive (%d s, _check_keepalive()); only the first connect is cut at %g s, by the driver" % (p["keepalive_s"], p["first_connect_deadline_s"])})

    mig = _block(options, "migration")
    if _get(mig, "enabled", bool, False):
        unsup.append({"option": "migration", "reason": "MQTT 3.1.1 has no server-initiated move: a broker can only close the connection"})
    if isinstance(options.get("router"), dict):
        unsup.append({"option": "router", "reason": "paho-mqtt is not a router: one connection to one broker"})

    # What the driver adds.
    p["resubscribe"] = True
    adds.append({"what": "the first connect is final: a refused CONNACK, a connection lost before CONNACK or no CONNACK within %g s closes the session CLOSED_FAILED and stops paho's loop (disconnect())" % p["first_connect_deadline_s"],
                 "why": "paho's loop_forever() retries a failed handshake for ever; faultline's first connect either reaches CONNECTED_ACTIVE or fails, and is answered within the op timeout (a dial failure is final in paho itself: connect() raises)"})
    adds.append({"what": "on_connect re-subscribes the topics the broker's session does not hold (all of them when session present is 0; else those whose SUBACK never came)",
                 "why": "paho 1.6.1 never re-sends SUBSCRIBE after a reconnect (reconnect() resets _out_packet; _handle_connack() resends only publishes); its documented pattern is subscribing in on_connect"})

    for a in against(environ):
        if a == "no_reconnect":
            p["reconnect_on_failure"] = False
        elif a == "clean_session":
            p["clean_session"] = True
        elif a == "no_resubscribe":
            p["resubscribe"] = False
            adds = [x for x in adds if not x["what"].startswith("on_connect re-subscribes")]
        adds.append({"what": "%s=%s" % (AGAINST_ENV, a), "why": "configured against the scenario's intent on purpose"})

    if not p["reconnect_on_failure"]:
        c["buffer"] = term("none", SRC + " Client.loop_forever(): with Client(reconnect_on_failure=False) a loss ends the loop (:1770); nothing is sent again")
    elif p["qos"] == 1:
        c["buffer"] = term("while_reconnecting", CITE["buffer_reconnecting"] + ("; max_queued_messages_set(%d)" % p["max_queued_messages"] if p["max_queued_messages"] else ""))
    else:
        c["buffer"] = term("none", CITE["buffer_none"])
    if not p["reconnect_on_failure"]:
        c["refusal"] = term("ends", CITE["refusal_ends"])
    else:
        c["refusal"] = term("retry", CITE["refusal"] + "; the first connect: the driver makes a refusal final (driver_adds)")
    if p["resubscribe"]:
        c["resubscribe"] = term("driver", "driver: on_connect re-subscribes every subscribed topic with Client.subscribe() when the CONNACK says session present 0 (else the topics whose SUBACK never came), paho's documented pattern (driver_adds); paho itself: " + CITE["resubscribe"])
    if p["qos"] == 1:
        c["delivery"] = term("at_least_once", CITE["at_least_once"])
    else:
        c["delivery"] = term("at_most_once", CITE["at_most_once"])

    c["params"] = {
        "host": p["host"], "port": p["port"], "protocol": p["protocol"],
        "clean_session": p["clean_session"], "qos": p["qos"],
        "reconnect_on_failure": p["reconnect_on_failure"],
        "min_delay_s": p["min_delay_s"], "max_delay_s": p["max_delay_s"],
        "keepalive_s": p["keepalive_s"], "dial_timeout_s": p["dial_timeout_s"],
        "first_connect_deadline_s": p["first_connect_deadline_s"],
        "max_queued_messages": p["max_queued_messages"], "max_inflight_messages": 20,
        "resubscribe": p["resubscribe"], "username": p["username"] is not None,
    }
    if unsup:
        c["unsupported"] = unsup
    c["driver_adds"] = adds
    return p, c


class WatchedClient(mqtt.Client):
    """A paho Client whose socket creation (_create_socket_connection(),
    called by reconnect() once per attempt) reports `dial` events, and whose
    network thread (_thread_main(), started by loop_start()) says when it
    ends, and why if paho raised."""

    fl_session = None

    def _create_socket_connection(self):
        s = self.fl_session
        if s is not None:
            s.dialing()
        try:
            return super()._create_socket_connection()
        except BaseException as e:
            if s is not None:
                s.dial_failed(e)
            raise

    def _thread_main(self):
        err = None
        try:
            super()._thread_main()
        except BaseException as e:  # paho let an exception out of its loop
            err = e
        finally:
            if self.fl_session is not None:
                self.fl_session.loop_ended(err)


# ---------------------------------------------------------------------------
# One client's session.

class Session:
    def __init__(self, driver, key, client_id, plan):
        self.d = driver
        self.key = key  # the op's client index, or None (default session)
        self.client_id = client_id
        self.plan = plan
        self.url = plan["url"]
        self.qos = plan["qos"]
        self.mu = threading.Lock()
        self.state = None
        self.session = None
        self.client = None
        self.closing = False
        self.ever_connected = False
        self.refused = None  # the last CONNACK refusal code of the first connect
        self.last_error = ""
        self.loop_started = False
        self.loop_done = False
        self.dialing_now = False
        self.topics = {}  # topic -> qos, every subscription asked
        self.unacked = {}  # SUBSCRIBE mid -> topic, SUBACK not seen yet
        self.unsent = set()  # topics whose SUBSCRIBE found no connection
        self.settled = threading.Event()  # first connect ended (ACTIVE or closed)
        self.closed = threading.Event()

    # -- events -------------------------------------------------------------

    def event(self, e):
        if self.key is not None:
            e["client"] = self.key
        self.d.out.send(e)

    def error(self, text):
        self.event({"type": "error", "text": text})

    def move(self, to, native, reason=None, tried=None):
        """Reports a state change, keeping U1: nothing after a close, no
        repeated state, legal transitions only. self.mu is held."""
        frm = self.state
        if is_closed(frm) or frm == to:
            return False
        if not legal(frm, to):
            log("client %s: dropped %s -> %s (%s)" % (self.key, frm, to, native))
            return False
        self.state = to
        e = {"type": "state", "to": to, "phase": PHASES[to], "native": native, "server": self.url}
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
        if is_closed(to):
            self.closed.set()
        return True

    # -- the connect op -----------------------------------------------------

    def connect(self):
        """The first connect: answered once CONNECTED_ACTIVE or failed."""
        p = self.plan
        start = time.monotonic()
        with self.mu:
            if self.closing:  # exit came first: close() reported the session
                return "closed during connect"
            self.move(CONNECTING, "connect()")
        c = WatchedClient(client_id=self.client_id, clean_session=p["clean_session"],
                          protocol=mqtt.MQTTv311, transport="tcp",
                          reconnect_on_failure=p["reconnect_on_failure"])
        c.fl_session = self
        c.reconnect_delay_set(min_delay=p["min_delay_s"], max_delay=p["max_delay_s"])
        c.max_queued_messages_set(p["max_queued_messages"])
        if p["username"] is not None:
            c.username_pw_set(p["username"], p["password"])
        # No public setter in 1.6.1; _create_socket_connection() reads it.
        c._connect_timeout = p["dial_timeout_s"]
        c.on_connect = self.on_connect
        c.on_disconnect = self.on_disconnect
        c.on_message = self.on_message
        c.on_subscribe = self.on_subscribe
        with self.mu:
            if self.closing:  # exit came before the dial: close() reported it
                return "closed during connect"
            self.client = c
            self.dialing_now = True
        try:
            c.connect(p["host"], p["port"], keepalive=p["keepalive_s"])
        except Exception as e:
            text = "paho connect() to %s: %s" % (self.url, e)
            with self.mu:
                self.dialing_now = False
                self.last_error = text
                self.error(text)
                if self.closing:
                    self.move(BY_CLIENT, "connect() raised during close", "closed_by_client")
                else:
                    self.move(FAILED, "connect() raised %s" % type(e).__name__, "connection_error", [self.url])
            return text
        with self.mu:
            self.dialing_now = False
            closing = self.closing
            if not closing:
                self.loop_started = True
        if closing:  # exit came during the dial: no loop was started
            c.disconnect()  # written at once: paho has no thread yet (_packet_queue())
            with self.mu:
                self.move(BY_CLIENT, "disconnect()", "closed_by_client")
            return "closed during connect"
        c.loop_start()
        left = max(0.05, p["first_connect_deadline_s"] - (time.monotonic() - start))
        if not self.settled.wait(left):
            with self.mu:
                if not self.settled.is_set():
                    self.last_error = "no CONNACK from %s within %g s" % (self.url, p["first_connect_deadline_s"])
                    self.error("driver: " + self.last_error)
                    self.move(FAILED, "no CONNACK (driver's deadline)", "connection_error", [self.url])
            c.disconnect()
        with self.mu:
            if self.ever_connected:
                return None
            return self.last_error or "not connected (%s)" % self.state

    # -- paho's callbacks (its network thread, or the connect op's) ----------

    def dialing(self):
        self.event({"type": "dial", "server": self.url})

    def dial_failed(self, e):
        self.event({"type": "dial", "server": self.url, "text": "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__})

    def on_connect(self, client, userdata, flags, rc):
        try:
            self._on_connect(flags, rc)
        except Exception as e:  # never let paho see our exception
            log("on_connect: %r" % e)

    def _on_connect(self, flags, rc):
        present = flags.get("session present", 0) if isinstance(flags, dict) else 0
        if rc != 0:
            with self.mu:
                if self.state == CONNECTING:
                    self.refused = rc
                self.last_error = "CONNACK refused by %s: %s (rc %d)" % (self.url, mqtt.connack_string(rc), rc)
                if not is_closed(self.state):
                    self.error("paho on_connect: " + self.last_error)
            return
        with self.mu:
            if is_closed(self.state) or self.closing:
                return
            self.session = self.client_id
            self.ever_connected = True
            self.move(ACTIVE, "on_connect(rc=0, session present=%d)" % present)
            todo = []
            if self.plan["resubscribe"]:
                if not present:
                    todo = list(self.topics)
                else:
                    todo = [t for t in self.topics if t in self.unsent or t in self.unacked.values()]
                self.unsent.difference_update(todo)
                self.unacked = {m: t for m, t in self.unacked.items() if t not in todo}
            client = self.client
        for t in todo:
            self._subscribe(client, t)

    def on_disconnect(self, client, userdata, rc):
        try:
            self._on_disconnect(rc)
        except Exception as e:
            log("on_disconnect: %r" % e)

    def _on_disconnect(self, rc):
        stop = False
        with self.mu:
            st = self.state
            if is_closed(st):
                return
            if self.closing or rc == 0:
                self.move(BY_CLIENT, "on_disconnect(rc=%d)" % rc, "closed_by_client")
                return
            text = "paho on_disconnect(rc=%d): %s" % (rc, mqtt.error_string(rc))
            self.error(text)
            if st == CONNECTING:
                # The first connect failed: final (driver_adds).
                if self.refused in (4, 5):
                    reason = "access_denied"
                elif self.refused in (1, 2):
                    reason = "handshake_rejected"
                else:
                    reason = "connection_error"
                if not self.last_error:
                    self.last_error = text
                self.move(FAILED, "on_disconnect(rc=%d)" % rc, reason, [self.url])
                stop = True
            elif st == ACTIVE:
                self.last_error = text
                if self.plan["reconnect_on_failure"]:
                    self.move(RECOVERING, "on_disconnect(rc=%d)" % rc)
                else:
                    self.move(FAILED, "on_disconnect(rc=%d)" % rc, "connection_lost")
            client = self.client
        if stop and client is not None:
            client.disconnect()  # state mqtt_cs_disconnecting: loop_forever() stops

    def on_message(self, client, userdata, msg):
        try:
            with self.mu:
                if is_closed(self.state):
                    return
                topic = msg.topic
                e = {"type": "message", "topic": topic}
                n = seq_of(msg.payload)
                if n:
                    e["seq"] = n
                self.event(e)
        except Exception as e:
            log("on_message: %r" % e)

    def on_subscribe(self, client, userdata, mid, granted_qos):
        try:
            with self.mu:
                t = self.unacked.pop(mid, None)
                if t is not None and any(q == 0x80 for q in granted_qos):
                    self.error("SUBACK from %s refused the subscription to %s" % (self.url, t))
        except Exception as e:
            log("on_subscribe: %r" % e)

    def loop_ended(self, err):
        with self.mu:
            self.loop_done = True
            if err is not None:
                self.last_error = "paho network thread ended by %s: %s" % (type(err).__name__, err)
                self.error(self.last_error)
                log("paho network thread of client %s: %r" % (self.key, err))
            st = self.state
            if is_closed(st):
                return
            if self.closing:
                self.move(BY_CLIENT, "loop ended", "closed_by_client")
            elif st == CONNECTING:
                self.move(FAILED, "loop ended", "connection_error", [self.url])
            elif st == RECOVERING:
                self.move(FAILED, "loop ended", "reconnect_aborted")
            else:
                self.move(FAILED, "loop ended", "connection_lost")

    # -- ops ------------------------------------------------------------------

    def _subscribe(self, client, topic):
        """SUBSCRIBE now, or remember it for the next CONNACK."""
        try:
            rc, mid = client.subscribe(topic, self.qos)
        except ValueError as e:
            return "paho subscribe: %s" % e
        with self.mu:
            if rc == mqtt.MQTT_ERR_SUCCESS and mid is not None:
                self.unacked[mid] = topic
            else:
                self.unsent.add(topic)
        return None

    def subscribe(self, topic):
        with self.mu:
            if self.client is None or is_closed(self.state):
                return "not connected"
            self.topics[topic] = self.qos
            client = self.client
        err = self._subscribe(client, topic)
        if err is not None:
            with self.mu:
                self.topics.pop(topic, None)
        return err

    def publish(self, topic, data):
        """publish() at the session's QoS: None when paho took the message,
        else why not."""
        with self.mu:
            if self.client is None or is_closed(self.state):
                return "not connected"
            client = self.client
        try:
            info = client.publish(topic, data, qos=self.qos)
        except (ValueError, TypeError) as e:
            return "paho publish: %s" % e
        rc = info.rc
        if rc == mqtt.MQTT_ERR_SUCCESS:
            return None
        if rc == mqtt.MQTT_ERR_NO_CONN and self.qos > 0:
            # Kept in _out_messages and sent after CONNACK (buffer term).
            self.error("paho publish on %s: rc %d (%s): QoS %d message kept, sent after the reconnect" % (topic, rc, mqtt.error_string(rc), self.qos))
            return None
        text = "paho publish on %s: rc %d (%s)" % (topic, rc, mqtt.error_string(rc))
        self.error(text + ": send discarded")
        return text

    def close(self):
        """Closes deliberately; returns once paho ended the connection
        (bounded), CLOSED_BY_CLIENT reported."""
        with self.mu:
            if is_closed(self.state):
                return
            self.closing = True
            client = self.client
            if client is None:  # exit during a connect op, before its dial
                if self.state is None:
                    self.move(CONNECTING, "connect()")
                self.move(BY_CLIENT, "close before the dial", "closed_by_client")
                return
        client.disconnect()
        end = time.monotonic() + CLOSE_WAIT
        while not self.closed.is_set() and time.monotonic() < end:
            with self.mu:
                if self.loop_done or not (self.loop_started or self.dialing_now):
                    break
            self.closed.wait(0.02)
        with self.mu:
            self.move(BY_CLIENT, "disconnect()", "closed_by_client")
            started = self.loop_started
        if started:
            # A disconnect() racing paho's reconnect() can be lost (no socket
            # yet: no DISCONNECT queued; then reconnect()'s _state =
            # mqtt_cs_new or CONNACK's mqtt_cs_connected overwrites it): say
            # it again, and stop the loop without waiting on it (loop_stop()
            # joins unbounded).
            def stop():
                if not self.loop_done:
                    client.disconnect()
                client.loop_stop()
                if client.socket() is not None:
                    client.disconnect()  # no thread now: DISCONNECT is written at once
            threading.Thread(target=stop, name="loop_stop", daemon=True).start()


# ---------------------------------------------------------------------------
# The driver: ops in, sessions by client.

class Driver(driverkit.Host):
    def __init__(self, out, environ, sessions=SESSIONS):
        super().__init__(out, environ, sessions, log, EXIT_WAIT)
        self.sent = {}  # client key -> [lock, n]: the client's send numbers

    def do(self, op, op_id, name, key):
        if name == "connect":
            return self.connect(op, key)
        if name == "subscribe":
            s = self.session(key)
            topic = op.get("topic")
            if s is None:
                return "not connected", None
            if not isinstance(topic, str) or not topic:
                return "subscribe: no topic", None
            return s.subscribe(topic), None
        if name == "send":
            return self.send(op, key), None
        if name == "close":
            s = self.session(key)
            if s is None:
                return "not connected", None
            s.close()
            return None, None
        if name in ("request", "cancel"):
            return "%s: not implemented by %s (no migration)" % (name, SDK), None
        return "unknown op %s" % json.dumps(name), None

    def connect(self, op, key):
        try:
            plan, contract = plan_for(op.get("servers"), op.get("options"), self.environ)
        except BadOptions as e:
            return str(e), None
        driver_num = op.get("driver")
        if not isinstance(driver_num, int) or isinstance(driver_num, bool) or driver_num <= 0:
            driver_num = self.environ.get("FAULTLINE_DRIVER", "0") or "0"
        index = key if key is not None else 0
        # The brief's fixed client id: stable for the client's whole life.
        client_id = "fl-%s-%d" % (driver_num, index)
        contract["params"]["client_id"] = client_id
        with self.mu:
            why = self.room_for(key)
            if why is not None:
                return why, None
            s = Session(self, key, client_id, plan)
            self.sessions[key] = s
        err = s.connect()
        return err, contract

    def send(self, op, key):
        s = self.session(key)
        if s is None:
            return "not connected"
        topic = op.get("topic")
        if not isinstance(topic, str) or not topic:
            topic = DEFAULT_TOPIC
        with self.mu:
            counter = self.sent.setdefault(key, [threading.Lock(), 0])
        lock = counter[0]
        with lock:  # sends of one client numbered in the order paho took them
            n = counter[1] + 1
            body = {"n": n}
            if op.get("payload") is not None:
                body["payload"] = op["payload"]
            try:
                data = json.dumps(body, separators=(",", ":"), allow_nan=False)
            except ValueError as e:
                return "send: payload: %s" % e
            err = s.publish(topic, data)
            if err is None:
                counter[1] = n  # a refused send takes no number
            return err


def main():
    sessions = driverkit.sessions_arg(sys.argv[1:], SESSIONS)
    out = Output(sys.stdout.buffer)
    out.send(hello(sessions))
    driverkit.serve(Driver(out, os.environ, sessions), sys.stdin.buffer)
    # paho's threads are daemons; leave without waiting for a loop_stop().
    os._exit(0)


if __name__ == "__main__":
    main()

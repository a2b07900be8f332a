"""The session protocol's frames (wire/wire.go in the Go tree, the source of truth).

One JSON object per WebSocket text message:

    client                              server
    hello{principal,credentials,...} ->
                                     <- welcome{session,token,ping_ms,retention_ms}  (new session)
                                     <- resumed{session,received} + replayed msgs    (recovery)
                                     <- refused{reason}, then close
    sub{topic}                       ->
                                     <- msg{topic,seq,data}
    send{n,data}                     ->  (n counts the client's sends from 1)
                                     <- ack{n}
                                     <- ping{}  every ping_ms
    pong{}                           ->
    ack{topic,seq}                   ->  (lets the server trim its recovery buffer)
    close{}                          ->  (deliberate close by the client)
                                     <- closed{reason}  (deliberate close by the server)

The streaming-request and migration frames (req, row, done, attn, migrate,
mig_*) decode, because they are part of the protocol, but this engine never
asks for them: its hello does not declare migration.
"""

import json

HELLO, WELCOME, RESUMED, REFUSED = "hello", "welcome", "resumed", "refused"
SUB, MSG, SEND, ACK = "sub", "msg", "send", "ack"
PING, PONG, CLOSE, CLOSED = "ping", "pong", "close", "closed"

KNOWN = frozenset({
    HELLO, WELCOME, RESUMED, REFUSED, SUB, MSG, SEND, ACK, PING, PONG, CLOSE, CLOSED,
    "req", "row", "done", "attn", "migrate", "mig_ready", "mig_failed", "mig_leaving",
})

# Refusal and close reasons servers send (wire.Reason*).
ACCESS_DENIED = "access_denied"
UNKNOWN_SESSION = "unknown_session"
LOST_MESSAGES = "lost_messages"
BAD_HANDSHAKE = "handshake_rejected"

MAX_FRAME = 1 << 20  # wire.MaxFrame: the largest frame either side accepts

_STRINGS = ("t", "principal", "credentials", "session", "token", "reason", "topic", "mig", "target", "state")
_COUNTS = ("retention_ms", "received", "ping_ms", "seq", "n", "req", "rows")
_MAX_INT = (1 << 63) - 1  # Go's int64


class FrameError(ValueError):
    """A frame that does not decode: the stream that carried it cannot be trusted."""

    def __init__(self, why):
        super().__init__(f"bad frame: {why}")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def decode(text):
    """Parse one frame as strictly as wire.Decode: a JSON object of a known
    type whose fields have the right types and sane values."""
    if isinstance(text, (bytes, bytearray)):
        raise FrameError("not a text message")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FRAME:
        raise FrameError(f"{size} bytes exceeds {MAX_FRAME}")
    try:
        f = json.loads(text)
    except ValueError as e:
        raise FrameError(str(e)) from None
    if not isinstance(f, dict):
        raise FrameError("not a JSON object")
    for k in _STRINGS:
        if f.get(k) is not None and not isinstance(f[k], str):
            raise FrameError(f"{k} is not a string")
    t = f.get("t")
    if t not in KNOWN:
        raise FrameError(f"unknown type {json.dumps(t)}")
    for k in _COUNTS:
        v = f.get(k)
        if v is None:
            continue
        if not _is_int(v) or v > _MAX_INT:
            raise FrameError(f"{k} is not an integer in {t} frame")
        if v < 0:
            raise FrameError(f"negative number in {t} frame")
    last = f.get("last")
    if last is not None:
        if not isinstance(last, dict) or not all(_is_int(v) for v in last.values()):
            raise FrameError("last is not an object of integers")
    for k in ("no_reconnect", "cancelled", "migration"):
        if f.get(k) is not None and not isinstance(f[k], bool):
            raise FrameError(f"{k} is not a boolean")
    if t in (SUB, MSG) and not f.get("topic"):
        raise FrameError(f"{t} frame without topic")
    if t == SEND and not f.get("n"):
        raise FrameError("send frame without n")
    if t in (WELCOME, RESUMED) and not f.get("session"):
        raise FrameError(f"{t} frame without session")
    return f


def encode(frame):
    """Render a frame, leaving out empty fields as wire.go's omitempty does
    (so every engine puts the same bytes on the wire). `data` is kept even
    when None: JSON null is a payload too."""
    out = {}
    for k, v in frame.items():
        if k == "data":
            out[k] = v
        elif v is None or v is False or v == "" or (_is_int(v) and v == 0) or v == {}:
            continue
        else:
            out[k] = v
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)

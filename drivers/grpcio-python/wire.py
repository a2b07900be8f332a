"""The few protobuf bytes the gRPC pack's Feed service speaks, by hand.

Every Feed message is a protobuf well-known wrapper (google.protobuf
StringValue, BytesValue, UInt64Value: one field, number 1), so the driver
needs no protoc and no protobuf runtime: a wrapper is a tag byte, then a
varint (UInt64Value) or a varint length and the bytes (StringValue,
BytesValue). Decoding follows the protobuf wire format's rules for what a
reader must accept: fields in any order, the last occurrence of field 1
wins, unknown fields are skipped; anything malformed raises DecodeError
with what was wrong and where.

Also here: the server URLs of the wire agreement (grpc://127.0.0.1:PORT)
and a send's number (the JSON payload's n).
"""

import json
import urllib.parse

import kitpath  # noqa: F401
from driverkit import seq_of  # noqa: E402,F401  (wire.seq_of: a message's number)

MAX_VARINT_BYTES = 10  # a 64-bit varint takes at most 10 bytes
U64_MAX = (1 << 64) - 1

WT_VARINT, WT_I64, WT_LEN, WT_SGROUP, WT_EGROUP, WT_I32 = 0, 1, 2, 3, 4, 5


class DecodeError(ValueError):
    """A message that is not a well-formed wrapper."""


# ---------------------------------------------------------------------------
# Varints.

def encode_varint(n):
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n > U64_MAX:
        raise ValueError("varint: %r is not an unsigned 64-bit integer" % (n,))
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def decode_varint(buf, pos=0):
    """The varint at buf[pos:]: (value, position after it)."""
    n = 0
    shift = 0
    start = pos
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint at byte %d: %d byte(s) of %d, the last with its continuation bit set"
                              % (start, pos - start, len(buf)))
        if pos - start >= MAX_VARINT_BYTES:
            raise DecodeError("varint at byte %d is longer than %d bytes" % (start, MAX_VARINT_BYTES))
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if n > U64_MAX:
                raise DecodeError("varint at byte %d overflows 64 bits" % start)
            return n, pos


# ---------------------------------------------------------------------------
# Wrappers.

def _field1(buf, want_type, what):
    """The last value of field 1 (wire type want_type) in buf, or None;
    other fields are skipped."""
    if not isinstance(buf, (bytes, bytearray, memoryview)):
        raise DecodeError("%s: want bytes, got %s" % (what, type(buf).__name__))
    buf = bytes(buf)
    pos = 0
    value = None
    while pos < len(buf):
        at = pos
        key, pos = decode_varint(buf, pos)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise DecodeError("%s: field number 0 at byte %d" % (what, at))
        if wt == WT_VARINT:
            v, pos = decode_varint(buf, pos)
        elif wt == WT_LEN:
            n, pos = decode_varint(buf, pos)
            if n > len(buf) - pos:
                raise DecodeError("%s: field %d at byte %d says %d byte(s), %d left" % (what, num, at, n, len(buf) - pos))
            v, pos = buf[pos:pos + n], pos + n
        elif wt in (WT_I64, WT_I32):
            n = 8 if wt == WT_I64 else 4
            if n > len(buf) - pos:
                raise DecodeError("%s: fixed%d field %d at byte %d truncated" % (what, n * 8, num, at))
            v, pos = buf[pos:pos + n], pos + n
        else:
            raise DecodeError("%s: field %d at byte %d has wire type %d (groups are not allowed here)" % (what, num, at, wt))
        if num == 1:
            if wt != want_type:
                raise DecodeError("%s: field 1 at byte %d has wire type %d, want %d" % (what, at, wt, want_type))
            value = v
    return value


def encode_uint64(n):
    """google.protobuf.UInt64Value{value: n}; 0 is the empty message."""
    if n == 0:
        encode_varint(0)  # validates the type
        return b""
    return b"\x08" + encode_varint(n)


def decode_uint64(buf):
    v = _field1(buf, WT_VARINT, "UInt64Value")
    return 0 if v is None else v


def encode_bytes(b):
    """google.protobuf.BytesValue{value: b}; empty bytes is the empty message."""
    if not isinstance(b, (bytes, bytearray)):
        raise ValueError("BytesValue: want bytes, got %s" % type(b).__name__)
    if not b:
        return b""
    return b"\x0a" + encode_varint(len(b)) + bytes(b)


def decode_bytes(buf):
    v = _field1(buf, WT_LEN, "BytesValue")
    return b"" if v is None else v


def encode_string(s):
    """google.protobuf.StringValue{value: s}: b'\\x0a' + varint(len) + UTF-8."""
    if not isinstance(s, str):
        raise ValueError("StringValue: want str, got %s" % type(s).__name__)
    return encode_bytes(s.encode("utf-8"))


def decode_string(buf):
    v = _field1(buf, WT_LEN, "StringValue")
    if v is None:
        return ""
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError("StringValue: value is not UTF-8: %s" % e)


# ---------------------------------------------------------------------------
# The wire agreement's URLs and numbers.

def parse_server(url):
    """grpc://A.B.C.D:PORT -> 'A.B.C.D:PORT' (an address of the ipv4:
    resolver, which takes only IPv4 literals)."""
    if not isinstance(url, str):
        raise ValueError("server %r: want a string" % (url,))
    u = urllib.parse.urlsplit(url)
    if u.scheme != "grpc":
        raise ValueError("server %s: want grpc://HOST:PORT (the gRPC pack's URLs)" % url)
    if u.path not in ("", "/") or u.query or u.fragment:
        raise ValueError("server %s: a gRPC server URL has no path" % url)
    try:
        port = u.port
    except ValueError as e:
        raise ValueError("server %s: %s" % (url, e))
    if port is None or port == 0:
        raise ValueError("server %s: no port" % url)
    host = u.hostname or ""
    parts = host.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise ValueError("server %s: the host must be an IPv4 literal (the channel target is ipv4:…)" % url)
    return "%s:%d" % (host, port)


def target_for(addresses):
    """The channel target for the servers in list order: the ipv4: resolver
    (sockaddr_resolver.cc ParseUri() splits the path on ',') keeps it."""
    return "ipv4:" + ",".join(addresses)


def numbered(n, payload):
    """What a send carries: {"n": n, "payload": …} (payload left out when
    None), so that the server's receive records n as its Seq."""
    body = {"n": n}
    if payload is not None:
        body["payload"] = payload
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")

"""The hand-written protobuf wrappers and the wire agreement's URLs.

    /usr/bin/python3 -m unittest discover -s drivers/grpcio-python -v
"""

import sys
import unittest

sys.dont_write_bytecode = True

import wire  # noqa: E402


class VarintTest(unittest.TestCase):
    def test_round_trip(self):
        for n in (0, 1, 127, 128, 255, 300, 16383, 16384, 2**31 - 1, 2**32, 2**63, 2**64 - 1):
            b = wire.encode_varint(n)
            self.assertEqual(wire.decode_varint(b), (n, len(b)), n)
            self.assertEqual(wire.decode_varint(b"\xff" + b, 1), (n, len(b) + 1), n)  # from an offset
        self.assertEqual(wire.encode_varint(300), b"\xac\x02")  # the protobuf docs' example
        self.assertEqual(len(wire.encode_varint(2**64 - 1)), 10)

    def test_encode_refuses(self):
        for bad in (-1, 2**64, 1.5, True, "1", None):
            with self.assertRaises(ValueError, msg=repr(bad)):
                wire.encode_varint(bad)

    def test_truncated(self):
        for buf in (b"", b"\x80", b"\xff\xff", b"\xac"):
            with self.assertRaises(wire.DecodeError) as cm:
                wire.decode_varint(buf)
            self.assertIn("truncated varint", str(cm.exception))
        with self.assertRaises(wire.DecodeError) as cm:
            wire.decode_varint(b"\x01\x80", 1)
        self.assertIn("at byte 1", str(cm.exception))

    def test_too_long(self):
        with self.assertRaises(wire.DecodeError) as cm:
            wire.decode_varint(b"\x80" * 10 + b"\x01")
        self.assertIn("longer than 10 bytes", str(cm.exception))
        with self.assertRaises(wire.DecodeError) as cm:
            wire.decode_varint(b"\xff" * 9 + b"\x7f")  # 10 bytes, above 2^64 - 1
        self.assertIn("overflows 64 bits", str(cm.exception))


class WrapperTest(unittest.TestCase):
    def test_string(self):
        self.assertEqual(wire.encode_string("c0"), b"\x0a\x02c0")
        self.assertEqual(wire.encode_string(""), b"")
        for s in ("", "c0", "s1/c12#3", "ünïcødé", "x" * 300):
            self.assertEqual(wire.decode_string(wire.encode_string(s)), s)
        self.assertEqual(wire.decode_string(b""), "")
        long = wire.encode_string("x" * 300)
        self.assertEqual(long[:3], b"\x0a\xac\x02")

    def test_uint64(self):
        self.assertEqual(wire.encode_uint64(0), b"")
        self.assertEqual(wire.encode_uint64(1), b"\x08\x01")
        for n in (0, 1, 150, 2**40, 2**64 - 1):
            self.assertEqual(wire.decode_uint64(wire.encode_uint64(n)), n)
        with self.assertRaises(ValueError):
            wire.encode_uint64(-3)

    def test_bytes(self):
        for b in (b"", b"\x00", b'{"n":1}', bytes(range(256))):
            self.assertEqual(wire.decode_bytes(wire.encode_bytes(b)), b)
        with self.assertRaises(ValueError):
            wire.encode_bytes("text")

    def test_unknown_fields_skipped_last_wins(self):
        # field 2 varint, field 3 bytes, field 4 fixed64, field 5 fixed32, then field 1 twice.
        buf = b"\x10\x05" + b"\x1a\x02hi" + b"\x21" + b"\x00" * 8 + b"\x2d" + b"\x00" * 4 + b"\x08\x07" + b"\x08\x09"
        self.assertEqual(wire.decode_uint64(buf), 9)
        self.assertEqual(wire.decode_string(b"\x12\x01z\x0a\x01a\x0a\x01b"), "b")

    def test_bad_input(self):
        cases = [
            (wire.decode_uint64, b"\x08", "truncated varint"),
            (wire.decode_uint64, b"\x08\x80\x80", "truncated varint"),
            (wire.decode_string, b"\x0a\x05ab", "says 5 byte(s), 2 left"),
            (wire.decode_string, b"\x0a", "truncated varint"),
            (wire.decode_string, b"\x08\x01", "wire type 0, want 2"),
            (wire.decode_uint64, b"\x0a\x01x", "wire type 2, want 0"),
            (wire.decode_uint64, b"\x0b", "wire type 3"),
            (wire.decode_uint64, b"\x00\x01", "field number 0"),
            (wire.decode_uint64, b"\x21\x00\x00", "fixed64 field 4"),
            (wire.decode_string, b"\x0a\x02\xff\xfe", "not UTF-8"),
            (wire.decode_string, "text", "want bytes"),
        ]
        for fn, buf, want in cases:
            with self.assertRaises(wire.DecodeError, msg=repr(buf)) as cm:
                fn(buf)
            self.assertIn(want, str(cm.exception), buf)


class AgreementTest(unittest.TestCase):
    def test_parse_server(self):
        self.assertEqual(wire.parse_server("grpc://127.0.0.1:7001"), "127.0.0.1:7001")
        self.assertEqual(wire.parse_server("grpc://127.0.0.1:7001/"), "127.0.0.1:7001")
        for bad in ("ws://127.0.0.1:1/", "grpc://localhost:1", "grpc://127.0.0.1", "grpc://127.0.0.1:0",
                    "grpc://127.0.0.1:1/x", "grpc://[::1]:1", "grpc://127.0.0.1:99999", "127.0.0.1:1", None, ""):
            with self.assertRaises(ValueError, msg=repr(bad)):
                wire.parse_server(bad)

    def test_target_keeps_order(self):
        self.assertEqual(wire.target_for(["127.0.0.1:2", "127.0.0.1:1"]), "ipv4:127.0.0.1:2,127.0.0.1:1")

    def test_numbered_and_seq(self):
        self.assertEqual(wire.numbered(3, {"a": 1}), b'{"n":3,"payload":{"a":1}}')
        self.assertEqual(wire.numbered(1, None), b'{"n":1}')
        self.assertEqual(wire.seq_of(wire.numbered(5, "x")), 5)
        self.assertEqual(wire.seq_of(b'{"seq":4}'), 4)
        self.assertEqual(wire.seq_of(b"7"), 7)
        for bad in (b"\xff", b'{"n":true}', b"[1]", b"", None):
            self.assertEqual(wire.seq_of(bad), 0, bad)
        with self.assertRaises(ValueError):
            wire.numbered(1, float("nan"))


if __name__ == "__main__":
    unittest.main()

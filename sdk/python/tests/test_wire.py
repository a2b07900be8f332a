"""The session protocol's frames: encoding as Go's omitempty does, strict decoding."""

import json
import unittest

from faultline_py import wire


class EncodeTest(unittest.TestCase):
    def test_leaves_out_empty_fields(self):
        got = wire.encode({"t": "hello", "principal": "p", "session": "", "retention_ms": 0,
                           "no_reconnect": False, "last": {}, "token": None})
        self.assertEqual(got, '{"t":"hello","principal":"p"}')

    def test_keeps_set_fields_in_order(self):
        got = wire.encode({"t": "hello", "session": "S", "token": "k", "last": {"a": 3}, "no_reconnect": True})
        self.assertEqual(json.loads(got), {"t": "hello", "session": "S", "token": "k", "last": {"a": 3}, "no_reconnect": True})

    def test_null_payload_is_a_payload(self):
        self.assertEqual(wire.encode({"t": "send", "n": 1, "data": None}), '{"t":"send","n":1,"data":null}')

    def test_round_trip(self):
        f = {"t": "msg", "topic": "prices", "seq": 7, "data": {"p": [1, 2]}}
        self.assertEqual(wire.decode(wire.encode(f)), f)


class DecodeTest(unittest.TestCase):
    def test_accepts_the_servers_frames(self):
        for text in ('{"t":"welcome","session":"S","token":"k","ping_ms":100,"retention_ms":5000}',
                     '{"t":"resumed","session":"S","received":3}', '{"t":"refused","reason":"access_denied"}',
                     '{"t":"msg","topic":"x","seq":1,"data":"d"}', '{"t":"ack","n":2}', '{"t":"ping"}',
                     '{"t":"closed","reason":"closed_by_server"}', '{"t":"row","req":1,"n":2}'):
            with self.subTest(text=text):
                self.assertEqual(wire.decode(text), json.loads(text))

    def test_rejects_bad_frames_with_why(self):
        cases = {
            "not json": "bad frame: Expecting value",
            "[1]": "not a JSON object",
            '{"t":"nope"}': 'unknown type "nope"',
            '{"seq":1}': "unknown type null",
            '{"t":"msg","topic":"x","seq":-1}': "negative number in msg frame",
            '{"t":"msg","topic":"x","seq":1.5}': "seq is not an integer",
            '{"t":"msg","topic":"x","seq":true}': "seq is not an integer",
            '{"t":"msg","topic":"x","seq":99999999999999999999}': "seq is not an integer",
            '{"t":"msg","seq":1}': "msg frame without topic",
            '{"t":"msg","topic":5,"seq":1}': "topic is not a string",
            '{"t":"send","data":1}': "send frame without n",
            '{"t":"welcome"}': "welcome frame without session",
            '{"t":"resumed","session":""}': "resumed frame without session",
            '{"t":"hello","last":{"a":"x"}}': "last is not an object of integers",
            '{"t":"hello","no_reconnect":1}': "no_reconnect is not a boolean",
        }
        for text, why in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(wire.FrameError) as cm:
                    wire.decode(text)
                self.assertIn(why, str(cm.exception))

    def test_rejects_binary_and_oversized(self):
        with self.assertRaisesRegex(wire.FrameError, "not a text message"):
            wire.decode(b'{"t":"ping"}')
        big = '{"t":"ping","reason":"' + "x" * wire.MAX_FRAME + '"}'
        with self.assertRaisesRegex(wire.FrameError, "exceeds"):
            wire.decode(big)


if __name__ == "__main__":
    unittest.main()

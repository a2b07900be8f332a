"""The driver protocol: the hello, line handling (bad lines get an error
event, bad ops an error reply), sessions per client, and the driver as a
process against a scripted server."""

import asyncio
import json
import os
import subprocess
import sys
import unittest

from faultline_py.driver import FEATURES, MAX_LINE, SDK, Driver, hello

from .fake import FakeServer, until

DRIVER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "driver.py")


class LineTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.out = []
        self.exited = False
        self.d = Driver(self.out.append, sessions=8, env={}, on_exit=lambda: setattr(self, "exited", True))
        self.d.start()

    def lines(self, *ls):
        self.d.feed("".join(l + "\n" for l in ls).encode())

    def test_hello_first(self):
        self.assertEqual(self.out, [{"sdk": SDK, "version": "0.1.0", "features": list(FEATURES), "sessions": 8}])
        self.assertNotIn("sessions", hello(1))

    async def test_bad_lines_get_an_error_event(self):
        self.lines("not json", "[1,2]", '{"op":"connect"}', '{"id":"7","op":"exit"}', '{"id":1.5,"op":"exit"}',
                   '{"id":true,"op":"exit"}', '{"op":"send","client":3}', "", "   ")
        self.d.feed(b"\xff\xfe\n")
        errs = self.out[1:]
        self.assertTrue(all(e["type"] == "error" for e in errs), errs)
        self.assertEqual(len(errs), 8)  # blank lines are skipped
        self.assertIn("bad op line: Expecting value", errs[0]["text"])
        self.assertEqual(errs[1]["text"], "bad op line: not a JSON object")
        self.assertIn("op without an integer id", errs[2]["text"])
        self.assertEqual(errs[6]["client"], 3)  # the client it named, when it named one
        self.assertEqual(errs[7]["text"], "bad op line: not UTF-8")
        self.assertFalse(self.exited)

    async def test_bad_ops_get_an_error_reply(self):
        self.lines('{"id":1,"op":"frobnicate"}', '{"id":2,"op":"subscribe","topic":"x"}', '{"id":3,"op":"send"}',
                   '{"id":4,"op":"close"}', '{"id":5,"op":"request","rows":3}', '{"id":6,"op":"connect","client":-1}',
                   '{"id":7,"op":"connect","client":"a"}', '{"id":8,"op":"probe"}', '{"id":9,"op":"connect"}',
                   '{"id":10,"op":"connect","servers":["ws://127.0.0.1:1/"],"options":[]}')
        await until(lambda: len(self.out) == 11, what="ten replies")
        replies = {r["re"]: r for r in self.out[1:]}
        self.assertEqual(replies[1], {"re": 1, "ok": False, "error": 'unknown op "frobnicate"'})
        for i in (2, 3, 4):
            self.assertEqual(replies[i]["error"], "not connected")
        self.assertIn("not implemented", replies[5]["error"])
        self.assertIn("bad client -1", replies[6]["error"])
        self.assertIn('bad client "a"', replies[7]["error"])
        self.assertEqual(replies[8], {"re": 8, "ok": True})
        self.assertEqual(replies[9]["error"], "connect: no servers")
        self.assertEqual(replies[10]["error"], "connect: options is not an object")

    async def test_lines_split_across_chunks_and_overlong_lines(self):
        self.d.feed(b'{"id":1,"op"')
        self.d.feed(b':"probe"}\n{"id":2,')
        self.assertEqual(self.out[1:], [{"re": 1, "ok": True}])
        self.d.feed(b'"op":"x", "pad":"' + b"a" * MAX_LINE)
        self.d.feed(b'"}\n{"id":3,"op":"probe"}\n')
        self.assertEqual(self.out[2]["type"], "error")
        self.assertIn("longer than", self.out[2]["text"])
        self.assertEqual(self.out[3:], [{"re": 3, "ok": True}])  # the next line is served again

    async def test_exit_replies_then_exits_and_refuses_later_ops(self):
        self.lines('{"id":1,"op":"exit"}', '{"id":2,"op":"probe"}')
        await until(lambda: self.exited, what="the exit")
        self.assertEqual(self.out[1:], [{"re": 1, "ok": True}, {"re": 2, "ok": False, "error": "driver is exiting"}])

    async def test_end_of_input_exits(self):
        self.d.feed(b'{"id":1,"op":"probe"}')  # a last line without its newline still counts
        self.d.end_of_input()
        await until(lambda: self.exited, what="the exit")
        self.assertEqual(self.out[1:], [{"re": 1, "ok": True}])


class ProcessTest(unittest.IsolatedAsyncioTestCase):
    async def test_clients_sessions_and_exit(self):
        async def handler(peer):
            await peer.handshake()
            await peer.recv()
            peer.send({"t": "welcome", "session": f"S{peer.index}"})
            while (f := await peer.recv()) is not None:
                if f["t"] == "sub":
                    peer.send({"t": "msg", "topic": f["topic"], "seq": 1})
                if f["t"] == "close":
                    return

        srv = await FakeServer(handler).start()
        self.addAsyncCleanup(srv.stop)
        p = await asyncio.create_subprocess_exec(sys.executable, DRIVER, stdin=subprocess.PIPE,
                                                 stdout=subprocess.PIPE, env={**os.environ, "FAULTLINE_SEED": "1"})
        self.addCleanup(lambda: p.returncode is None and p.kill())
        out = []

        async def read_until(pred):
            async with asyncio.timeout(10):
                while not any(pred(x) for x in out):
                    line = await p.stdout.readline()
                    self.assertTrue(line, f"driver ended early; got {out}")
                    out.append(json.loads(line))

        def send(op):
            p.stdin.write((json.dumps(op) + "\n").encode())

        await read_until(lambda x: "sdk" in x)
        self.assertEqual(out[0]["sessions"], 4096)
        opts = {"reconnect": {"enabled": True}, "failover": {}}
        for k in (0, 1):
            send({"id": k * 10**9 + 1, "op": "connect", "client": k, "driver": k + 1, "seed": 1,
                  "servers": [srv.url], "options": opts})
        await read_until(lambda x: x.get("re") == 10**9 + 1)
        await read_until(lambda x: x.get("re") == 1)
        send({"id": 2, "op": "subscribe", "client": 0, "topic": "t"})
        await read_until(lambda x: x.get("type") == "message")
        send({"id": 10**9 + 2, "op": "close", "client": 1})
        await read_until(lambda x: x.get("re") == 10**9 + 2)
        send({"id": 3, "op": "exit"})
        p.stdin.close()
        async with asyncio.timeout(5):
            rest = await p.stdout.read()
            code = await p.wait()
        out += [json.loads(l) for l in rest.splitlines()]
        self.assertEqual(code, 0)
        events = [x for x in out if "type" in x]
        self.assertTrue(all(x.get("client") in (0, 1) for x in events), events)
        by_client = {k: [x["to"] for x in events if x["type"] == "state" and x["client"] == k] for k in (0, 1)}
        self.assertEqual(by_client[1], ["CONNECTING", "CONNECTED_ACTIVE", "CLOSED_BY_CLIENT"])
        self.assertEqual(by_client[0], ["CONNECTING", "CONNECTED_ACTIVE", "CLOSED_BY_CLIENT"])  # closed by the exit
        self.assertIn({"type": "message", "client": 0, "topic": "t", "seq": 1}, events)
        replies = [x["re"] for x in out if "re" in x]
        self.assertEqual(sorted(replies), sorted(set(replies)), "one reply per op")
        self.assertEqual(len(replies), 5)

    async def test_bad_sessions_flag(self):
        p = await asyncio.create_subprocess_exec(sys.executable, DRIVER, "--sessions", "0",
                                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        async with asyncio.timeout(10):
            out, err = await p.communicate()
        self.assertEqual(p.returncode, 2)
        self.assertEqual(out, b"")
        self.assertIn(b"usage: driver.py [--sessions N]", err)


if __name__ == "__main__":
    unittest.main()

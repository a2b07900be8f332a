#!/usr/bin/env python3
"""A tiny stdio driver for the tests of `faultline driver-test`: it keeps
the protocol except for the one fault its first argument names.

It speaks no wire protocol: its hello names one that no server kind speaks,
so the self-test leaves out the steps that need a server. Every op but
probe and exit is refused, which is what the protocol asks of a driver that
cannot serve an op. Modes:

  good            no fault (the baseline: the self-test passes it)
  no-hello        reads its stdin and never says hello
  wrong-id        answers every op with the id plus 1000
  bad-event       before answering a probe, a state event into "CONNECTED"
                  (not a state: the session states are Diffusion's)
  no-exit-on-eof  exits on the exit op, but not when its stdin ends
  liar            claims faultline's own protocol and answers connect with
                  CONNECTING, CONNECTED_ACTIVE and a session it made up,
                  without dialling the server
"""
import json
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "good"


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    if MODE == "no-hello":
        for _ in sys.stdin:
            pass
        return
    hello = {"sdk": "drivertest-" + MODE, "version": "0", "features": ["reconnect"]}
    if MODE != "liar":
        hello["protocol"] = "no-such-protocol"
    out(hello)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            op = json.loads(line)
        except ValueError as e:
            sys.stderr.write("drivertest driver: bad op line: %s\n" % e)
            sys.stderr.flush()
            continue
        if not isinstance(op, dict) or not isinstance(op.get("id"), int):
            sys.stderr.write("drivertest driver: op without an id\n")
            sys.stderr.flush()
            continue
        name, re = op.get("op"), op["id"]
        if MODE == "wrong-id":
            re += 1000
        if name == "exit":
            out({"re": re, "ok": True})
            return
        if name == "probe":
            if MODE == "bad-event":
                out({"type": "state", "to": "CONNECTED", "server": "ws://127.0.0.1:9/"})
            out({"re": re, "ok": True})
        elif name == "connect" and MODE == "liar":
            url = op["servers"][0]
            out({"type": "state", "to": "CONNECTING", "server": url})
            out({"type": "state", "from": "CONNECTING", "to": "CONNECTED_ACTIVE", "server": url, "session": "MADE-UP"})
            out({"re": re, "ok": True})
        else:
            out({"re": re, "ok": False, "error": "%s: not served by this test driver" % name})
    if MODE == "no-exit-on-eof":
        time.sleep(3600)


main()

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
import sys

sys.dont_write_bytecode = True  # the launcher runs from the source tree

import grpc  # noqa: E402

import contract  # noqa: E402
import kitpath  # noqa: E402,F401
import driverkit  # noqa: E402
from driverkit import Output  # noqa: E402
from session import Session, log  # noqa: E402

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


# ---------------------------------------------------------------------------
# The driver: ops in, sessions by client.

class Driver(driverkit.Host):
    def __init__(self, out, environ, sessions=SESSIONS):
        super().__init__(out, environ, sessions, log, EXIT_WAIT)

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
            if not driverkit.is_int(rows) or rows < 0:
                return "request: rows %r: want an integer >= 0" % (rows,), None
            return s.request(op_id, rows), None
        if name == "cancel":
            req = op.get("request")
            if not driverkit.is_int(req):
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
            why = self.room_for(key)
            if why is not None:
                return why, None
            s = Session(self.out, key, name, plan)
            self.sessions[key] = s
        return s.connect(), c


def main():
    sessions = driverkit.sessions_arg(sys.argv[1:], SESSIONS)
    out = Output(sys.stdout.buffer)
    out.send(contract.hello(VERSION, sessions))
    driverkit.serve(Driver(out, os.environ, sessions), sys.stdin.buffer)
    # grpcio's threads are daemons; leave without grpc's own shutdown.
    os._exit(0)


if __name__ == "__main__":
    main()

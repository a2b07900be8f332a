"""faultline-python: a client engine for faultline's session protocol
(wire/wire.go) in pure Python, standard library only, and the pieces of its
stdio driver. See README.md.

    from faultline_py import Backoff, Options, connect

    s = await connect(Options(servers=["ws://127.0.0.1:7101/"], strategy=Backoff(initial_ms=100, max_ms=5000)),
                      on_state=lambda c: print(c["from"], "->", c["to"], c["reason"]))
    s.subscribe("prices")
    s.send({"hello": "world"})
    await s.close()
"""

from .backoff import Attempt, Backoff
from .errors import CloseError
from .options import Options, from_driver_options
from .session import Session, connect

__all__ = ["Attempt", "Backoff", "CloseError", "Options", "Session", "connect", "from_driver_options"]

#!/usr/bin/python3
"""faultline-python's driver: the engine in faultline_py/ behind the driver
protocol on stdin/stdout (newline-delimited JSON; stderr is free for logs).

    faultline run --sdk "/usr/bin/python3 sdk/python/driver.py" --scenarios scenarios/reconnect
    /usr/bin/python3 sdk/python/driver.py --sessions 1     one session per process

One process hosts every client of a scenario (its hello declares sessions:
4096 by default). Standard library only: Python 3.11 or later.
"""

import asyncio
import json
import os
import sys
import threading

sys.dont_write_bytecode = True  # a run must not leave __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faultline_py.driver import SESSIONS, Driver  # noqa: E402
from faultline_py.walk import seeded_random  # noqa: E402
from faultline_py.warmup import warm_up  # noqa: E402


def sessions_arg(argv):
    """--sessions N (an integer >= 1): how many sessions this process hosts."""
    if "--sessions" not in argv:
        return SESSIONS
    i = argv.index("--sessions")
    try:
        n = int(argv[i + 1])
    except (IndexError, ValueError):
        n = 0
    if n < 1:
        print(f"usage: driver.py [--sessions N]  (N an integer >= 1, default {SESSIONS})", file=sys.stderr)
        sys.exit(2)
    return n


def write_line(obj):
    """One JSON line on stdout, flushed at once: the harness stamps lines as
    they arrive, so a buffered event would be a late one."""
    try:
        sys.stdout.buffer.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")
        sys.stdout.buffer.flush()
    except (BrokenPipeError, ValueError):
        os._exit(0)  # the harness is gone: nobody to tell


def read_stdin(loop, driver):
    """Blocking reads of stdin in a thread, handed to the loop: works for a
    pipe, a file or a terminal alike (asyncio's pipe reader takes pipes only)."""
    try:
        while True:
            chunk = os.read(0, 1 << 16)
            if not chunk:
                break
            loop.call_soon_threadsafe(driver.feed, chunk)
    except OSError:
        pass
    try:
        loop.call_soon_threadsafe(driver.end_of_input)
    except RuntimeError:
        pass  # the loop is already closed: we are exiting anyway


async def main(sessions):
    loop = asyncio.get_running_loop()
    # Before the hello: the harness starts a scenario's timeline once its
    # drivers said hello, so the cold start stays out of every measurement.
    await warm_up()
    done = loop.create_future()
    env = os.environ
    driver = Driver(write_line, sessions, random=seeded_random(env.get("FAULTLINE_SEED"), env.get("FAULTLINE_DRIVER")),
                    on_exit=lambda: done.done() or done.set_result(None))
    driver.start()
    threading.Thread(target=read_stdin, args=(loop, driver), daemon=True).start()
    await done


if __name__ == "__main__":
    asyncio.run(main(sessions_arg(sys.argv[1:])))
    sys.stdout.flush()
    os._exit(0)  # the stdin thread may still be blocked in read()

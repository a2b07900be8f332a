"""The reconnection strategy: Diffusion's start/abort pair and the built-in
back-off, the same schedule as the Go engine's client.Backoff.

A strategy is any object with perform_reconnection(attempt), which must
return at once and later call attempt.start() or attempt.abort(), and
optionally reset(). The session calls reset() after every successful
reconnection and every new session (R9).
"""

import asyncio
import random as _random

MAX_DELAY_MS = 2**31 - 1  # "never" for any session; keeps the arithmetic finite


class Attempt:
    """One reconnection attempt offered to a strategy. Only the first call of
    start() or abort() counts. Both post to the session through the loop, so
    a strategy may call them from inside perform_reconnection without
    re-entering the state machine half-way through a transition."""

    def __init__(self, post):
        self._post = post  # post(kind, attempt), kind "start" or "abort"
        self._loop = asyncio.get_running_loop()
        self._decided = False
        self._void = False
        self._hooks = []
        self.cancel = None  # set by the session while the attempt's dial runs

    def start(self):
        if not self._decided:
            self._decided = True
            self._loop.call_soon(self._post, "start", self)

    def abort(self):
        if not self._decided:
            self._decided = True
            self._loop.call_soon(self._post, "abort", self)

    def on_void(self, f):
        """Run f once the attempt can no longer start (the session closed,
        recovered or timed out): a strategy clears its timer with it."""
        if self._void:
            f()
        else:
            self._hooks.append(f)

    @property
    def void(self):
        return self._void

    def kill(self):
        """Void the attempt and cancel its dial if one is running."""
        if self._void:
            return
        self._void = True
        hooks, self._hooks = self._hooks, []
        for f in hooks:
            f()
        if self.cancel is not None:
            self.cancel()


class Backoff:
    """Delay n (0-based, since the last reset) is min(initial * multiplier**n,
    max), or initial when fixed; the first attempt after a loss waits delay 0.
    Jitter J scales each delay by a uniform factor in [1 - J, 1]. After
    max_attempts attempts (0: unlimited) the next offer aborts, which closes
    the session (or fails over)."""

    def __init__(self, initial_ms=100, multiplier=2, max_ms=0, max_attempts=0, jitter=0.0, fixed=False, random=None):
        self.initial_ms = initial_ms
        self.multiplier = multiplier or 2  # 0 means 2, as in the Go engine and the options JSON
        self.max_ms = max_ms
        self.max_attempts = max_attempts
        self.jitter = jitter
        self.fixed = fixed
        self.random = random or _random.random
        self.n = 0  # attempts since the last reset
        for v in (initial_ms, self.multiplier, max_ms, max_attempts, jitter):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
                raise ValueError(f"backoff: {v!r} is not a number")
        if min(initial_ms, max_ms, max_attempts) < 0:
            raise ValueError("backoff: negative value")
        if self.multiplier < 1:
            raise ValueError("backoff: multiplier below 1")
        if not 0 <= jitter <= 1:
            raise ValueError("backoff: jitter outside [0, 1]")

    def delay(self, n):
        """The n-th delay in ms, without jitter."""
        d = float(self.initial_ms)
        if not self.fixed and n > 0:
            try:
                d *= float(self.multiplier) ** n
            except OverflowError:
                d = float("inf")
        if self.max_ms > 0 and d > self.max_ms:
            d = float(self.max_ms)
        return min(d, MAX_DELAY_MS)

    def jittered(self, d):
        return d if self.jitter <= 0 else d * (1 - self.jitter * self.random())

    def perform_reconnection(self, attempt):
        if self.max_attempts > 0 and self.n >= self.max_attempts:
            attempt.abort()
            return
        d = self.jittered(self.delay(self.n))
        self.n += 1
        timer = asyncio.get_running_loop().call_later(d / 1000, attempt.start)
        attempt.on_void(timer.cancel)  # a void attempt's timer neither fires nor lingers

    def reset(self):
        self.n = 0

    def clone(self):
        """A fresh schedule with the same settings, for another session."""
        return Backoff(self.initial_ms, self.multiplier, self.max_ms, self.max_attempts, self.jitter, self.fixed, self.random)

"""Session options, their defaults (the Go engine's, so every SDK behaves
alike under the same scenario), and the mapping from the driver protocol's
connect options (harness/driver/options.go: durations as *_ms)."""

import dataclasses
import random as _random

from .backoff import Backoff


def default_strategy():
    """Exponential back-off 100ms, 200ms, ... capped at 5s: the Go engine's default."""
    return Backoff(initial_ms=100, multiplier=2, max_ms=5000)


@dataclasses.dataclass
class Options:
    """servers              ws:// URLs in order; servers[0] first, the rest for cascading and failover
    reconnect               reconnect after an unexpected loss
    reconnect_timeout_ms    one overall timer from the first loss (R5)
    retention_ms            asked of the server in the hello (0: reconnect_timeout_ms)
    strategy                perform_reconnection(attempt) and reset() (default: 100ms x2 up to 5s)
    recovery_buffer         how many unacknowledged sends are kept
    liveness_ms             silence bound; 0: 2 x the server's ping_ms (none if it announced none)
    connect_timeout_ms      bound on one attempt: dial + upgrade + hello + answer
    failover                after losing an established session, a new one on the next server
    load_balancing          failover candidates are shuffled first
    cascading               the first connection walks the servers in order until one answers
    random                  () -> [0, 1): the shuffle's source
    """

    servers: list
    principal: str = "faultline"
    credentials: str = "faultline"
    reconnect: bool = True
    reconnect_timeout_ms: float = 60_000
    retention_ms: float = 0
    strategy: object = None
    recovery_buffer: int = 1024
    liveness_ms: float = 0
    connect_timeout_ms: float = 2_000
    failover: bool = False
    load_balancing: bool = False
    cascading: bool = False
    random: object = None

    def __post_init__(self):
        if not self.servers or not all(isinstance(s, str) and s for s in self.servers):
            raise ValueError("servers: want a non-empty list of URLs")
        for k in ("reconnect_timeout_ms", "retention_ms", "liveness_ms", "connect_timeout_ms", "recovery_buffer"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"{k}: not a non-negative number")
        self.servers = list(self.servers)
        self.retention_ms = self.retention_ms or self.reconnect_timeout_ms
        self.random = self.random or _random.random
        if self.strategy is None:
            self.strategy = default_strategy()
        elif not callable(getattr(self.strategy, "perform_reconnection", None)):
            raise ValueError("strategy: no perform_reconnection")


def from_driver_options(servers, co, random=None):
    """Options from a connect op's options, as the Go driver maps them to the
    Go engine's: a strategy only when the scenario gave an initial delay (else
    the default), "fixed" or exponential; zero or absent means the default."""
    r = co.get("reconnect") or {}
    st = r.get("strategy") or {}
    f = co.get("failover") or {}
    kw = dict(servers=servers, reconnect=bool(r.get("enabled")), failover=bool(f.get("auto")),
              load_balancing=bool(f.get("load_balancing")), cascading=bool(f.get("cascading")), random=random)
    for src, key, attr in ((co, "principal", "principal"), (co, "credentials", "credentials"),
                           (r, "timeout_ms", "reconnect_timeout_ms"), (r, "retention_ms", "retention_ms"),
                           (r, "buffer", "recovery_buffer"), (co, "liveness_ms", "liveness_ms"),
                           (co, "connect_timeout_ms", "connect_timeout_ms")):
        if src.get(key):  # zero, empty or absent: the default
            kw[attr] = src[key]
    if st.get("initial_ms"):
        kw["strategy"] = Backoff(initial_ms=st["initial_ms"], multiplier=st.get("multiplier") or 0,
                                 max_ms=st.get("max_ms") or 0, max_attempts=st.get("attempts") or 0,
                                 jitter=st.get("jitter") or 0, fixed=st.get("backoff") == "fixed", random=random)
    return Options(**kw)

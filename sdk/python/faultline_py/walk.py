"""Server lists for cascading and autofailover (Diffusion's), the same
orders as the Go engine's client/walk.go."""

import random as _random


def cascade_order(servers, cascading):
    """The first connection's list: every server in list order with cascading
    on, else the first only. Load balancing never reorders a cascade (C1)."""
    return list(servers) if cascading else list(servers[:1])


def failover_order(servers, lost, load_balancing, random=_random.random):
    """After losing `lost`: the servers after it in list order (wrapping
    round), shuffled when load balancing is on, then `lost` itself last."""
    if lost in servers:
        i = servers.index(lost)
        others = list(servers[i + 1:]) + list(servers[:i])
    else:
        others = list(servers)
    if load_balancing:
        shuffle(others, random)
    if lost in servers:
        others.append(lost)
    return others


def shuffle(a, random=_random.random):
    """Fisher-Yates in place, j uniform in [0, i] (F3): every permutation
    equally likely. Drawing from [0, i) instead (Sattolo's) would never leave
    an element in place, a bias the harness's chi-square catches."""
    for i in range(len(a) - 1, 0, -1):
        j = min(int(random() * (i + 1)), i)
        a[i], a[j] = a[j], a[i]
    return a


def seeded_random(seed, driver):
    """A client's reproducible stream from the run's seed and its driver
    number (FNV-1a of "seed/driver", as the Node SDK hashes it), or None
    without a seed. Its random() has random.random's contract."""
    if seed is None or seed == "":
        return None
    h = 0x811C9DC5
    for ch in f"{seed}/{'' if driver is None else driver}".encode():
        h = ((h ^ ch) * 0x01000193) & 0xFFFFFFFF
    return _random.Random(h).random

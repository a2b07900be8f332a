"""Misconfigured on purpose: FAULTLINE_GRPC_AGAINST (README).

FAULTLINE_GRPC_AGAINST (comma-separated) names settings a gRPC application
gets wrong, so that one command shows faultline catching it. Never on by
default. The effective contract is left as the scenario's options make it
(what the application believes it configured: the numbers the checks hold
the library to); what was really done is said in driver_adds, one entry per
setting, naming the variable.
"""

ENV = "FAULTLINE_GRPC_AGAINST"

# grpc.min_reconnect_backoff_ms, grpc.initial_reconnect_backoff_ms and
# grpc.max_reconnect_backoff_ms all set to the initial back-off: grpc_types.h
# documents GRPC_ARG_MIN_RECONNECT_BACKOFF_MS as "The minimum time between
# subsequent connection attempts", so an application that wants a short,
# steady back-off sets the three alike. In fact min is each attempt's
# connect deadline (subchannel.cc StartConnectingLocked()) and max the cap
# (backoff.cc NextAttemptTime()): every wait is the initial one, +-20 %,
# with no growth.
NO_BACKOFF = "no_backoff"
# The scenario's liveness ignored: no grpc.keepalive_time_ms (the C core's
# default is no keepalive PING, chttp2_transport.cc
# init_transport_keepalive_settings(): DEFAULT_CLIENT_KEEPALIVE_TIME_MS
# INT_MAX), so a silent link goes unnoticed.
NO_KEEPALIVE = "no_keepalive"
KNOWN = (NO_BACKOFF, NO_KEEPALIVE)

BACKOFF_ARGS = ("grpc.min_reconnect_backoff_ms", "grpc.initial_reconnect_backoff_ms", "grpc.max_reconnect_backoff_ms")
KEEPALIVE_ARGS = ("grpc.keepalive_time_ms", "grpc.keepalive_timeout_ms", "grpc.keepalive_permit_without_calls", "grpc.http2.max_pings_without_data")


def settings(environ):
    """FAULTLINE_GRPC_AGAINST's settings, in order."""
    raw = (environ or {}).get(ENV, "") or ""
    return [a.strip() for a in raw.split(",") if a.strip()]


def misconfigure(p, c, environ, bad):
    """Changes the channel args of plan p against the scenario, one
    driver_adds entry of contract c per setting; an unknown setting raises
    bad (the connect is refused)."""
    for a in settings(environ):
        if a == NO_BACKOFF:
            ms = p["initial_ms"]
            for k in BACKOFF_ARGS:
                p["args"][k] = ms
            what = ("channel args %s all %d ms (grpc_types.h documents grpc.min_reconnect_backoff_ms as \"The minimum time between subsequent connection attempts\"): "
                    "every wait is %d ms +-20 %% with no growth and each attempt has %d ms to connect, where the contract's params state the intended back-off" % (", ".join(BACKOFF_ARGS), ms, ms, ms))
        elif a == NO_KEEPALIVE:
            for k in KEEPALIVE_ARGS:
                p["args"].pop(k, None)
            what = "the scenario's liveness ignored: no keepalive channel args (the C core's default: no keepalive PING), where the contract states the intended keepalive"
        else:
            raise bad("%s: unknown setting %r (%s)" % (ENV, a, ", ".join(KNOWN)))
        c["driver_adds"].append({"what": "%s=%s: %s" % (ENV, a, what), "why": "configured against the scenario's intent on purpose"})

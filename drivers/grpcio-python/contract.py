"""grpcio's connection-management contract, and what a connect asks of it.

The built-in contract (the hello's) cites the C core that python3-grpcio
1.51.1 runs, at 1.51.1: Debian builds python3-grpcio 1.51.1-3+b1 from its
source package grpc 1.51.1-3, whose patches touch only the build (system
abseil/upb/openssl, no embedded libraries), so the upstream v1.51.1 files
cited here are the code that runs. The Python layer cited is the installed
/usr/lib/python3/dist-packages/grpc/.

plan_for() turns a connect op's servers and options into channel options
and the effective contract: the terms for those options, the params the
library runs with, what it cannot express (unsupported) and what the driver
adds through the public API (driver_adds).
"""

import against
import kitpath  # noqa: F401
import wire
from driverkit import BadOptions  # noqa: F401  (contract.BadOptions: the connect op's error)
from driverkit import block as _block
from driverkit import option as _get

SDK = "grpcio-python"
PROTOCOL = "grpc"
# What the library implements: it reconnects (pick_first), walks its list
# after a loss (always from the top) and at the first connect, and with
# round_robin (client.library.grpc.lb_policy) spreads RPCs over the READY
# backends and skips lost ones (routing: T1, T2; T6's run-time discovery
# the driver refuses, the target being a static ipv4: list). Not
# load_balancing (1.51's pick_first never shuffles) or discovery (no server
# advertises others). migration: at a server's GOAWAY the channel moves its
# new RPCs to a new connection (M6; no server names a target, so M1–M5's
# target-naming scenarios do not apply).
FEATURES = ["reconnect", "failover", "cascading", "routing", "migration"]

CORE = "grpc 1.51.1 C core"
SUB_F = "src/core/ext/filters/client_channel/subchannel.cc"
BACKOFF_F = "src/core/lib/backoff/backoff.cc"
PF_F = "src/core/ext/filters/client_channel/lb_policy/pick_first/pick_first.cc"
RR_F = "src/core/ext/filters/client_channel/lb_policy/round_robin/round_robin.cc"
CC_F = "src/core/ext/filters/client_channel/client_channel.cc"
H2_F = "src/core/ext/transport/chttp2/transport/chttp2_transport.cc"
WR_F = "src/core/ext/transport/chttp2/transport/writing.cc"
CONN_F = "src/core/ext/transport/chttp2/client/chttp2_connector.cc"
SUB, BACKOFF, PF, CC, H2, WR, CONN = (CORE + " " + f for f in (SUB_F, BACKOFF_F, PF_F, CC_F, H2_F, WR_F, CONN_F))
PYCH = "grpcio 1.51.1 grpc/_channel.py"

# The C core's fixed numbers (subchannel.cc :69-73) and floors.
MULTIPLIER = 1.6
JITTER = 0.2
DEFAULT_INITIAL_MS = 1000
DEFAULT_MAX_MS = 120000
DEFAULT_MIN_CONNECT_TIMEOUT_MS = 20000
FLOOR_MS = 100  # ParseArgsForBackoffValues(): std::max(Duration::Milliseconds(100), …)
PING_FLOOR_MS = 1000  # writing.cc maybe_initiate_ping(): a client PING at most once a second
DEFAULT_KEEPALIVE_TIMEOUT_MS = 20000

FIRST_CONNECT_CAP_MS = 8000  # the connect op answers before the harness's 10 s op timeout
HELLO_TIMEOUT_MS = 5000  # a reconnect's Hello

CITE = {
    "first_attempt": SUB + " ConnectedSubchannelStateWatcher::OnConnectivityStateChange() (:310): a READY connection's loss sets the subchannel IDLE and backoff_.Reset() (:340); "
    + PF + " PickFirstSubchannelData::ProcessConnectivityChangeLocked() (:300): the selected subchannel's change puts the channel IDLE (:358); when asked, ExitIdleLocked() (:198) -> AttemptToConnectUsingLatestUpdateArgsLocked() (:216) -> subchannel(0)->RequestConnection() (:388) -> Subchannel::RequestConnection() (:751) -> StartConnectingLocked() (:871) at once, no wait",
    "delay_applies": SUB + " Subchannel::StartConnectingLocked() (:871) sets next_attempt_time_ = backoff_.NextAttemptTime() as each attempt starts; OnConnectingFinishedLocked() (:896) reports TRANSIENT_FAILURE and arms the retry timer for next_attempt_time_ - now; OnRetryTimerLocked() (:864) reports IDLE. One back-off per address (subchannel): "
    + PF_F + " PickFirstSubchannelData::ProcessConnectivityChangeLocked() moves to the next address at once on TRANSIENT_FAILURE (:400) and asks an address again when its own timer has put it IDLE (:452), so with several addresses the attempts of one pass come back to back while each address's delay runs: an address is tried when the walk reaches it or when its own (jittered) back-off ends, whichever is later; neither one sleep per attempt nor one per pass",
    "delay": BACKOFF + " BackOff::NextAttemptTime() (:29): current_backoff_ = min(current_backoff_ * multiplier, max_backoff); " + SUB
    + " ParseArgsForBackoffValues() (:580): initial grpc.initial_reconnect_backoff_ms (default 1 s), max grpc.max_reconnect_backoff_ms (default 120 s), each at least 100 ms; the multiplier is GRPC_SUBCHANNEL_RECONNECT_BACKOFF_MULTIPLIER 1.6 (:70), no channel arg sets it",
    "jitter": BACKOFF + " BackOff::NextAttemptTime() (:29): jitter = absl::Uniform(-jitter * current_backoff_, +jitter * current_backoff_) added after the cap, jitter GRPC_SUBCHANNEL_RECONNECT_JITTER 0.2 (" + SUB_F + " :73), no channel arg sets it",
    "first_wait": BACKOFF + " BackOff::NextAttemptTime() (:29): while initial_ (set by BackOff::Reset() :42) it returns now + current_backoff_ = the initial back-off, without jitter",
    "reset": SUB + " ConnectedSubchannelStateWatcher::OnConnectivityStateChange() (:310): backoff_.Reset() (:340) only when a connection that reached READY ends; READY is PublishTransportLocked() (:934), after the server's SETTINGS ("
    + CONN_F + " Chttp2Connector::OnReceiveSettings() :193); a failed attempt never resets it, so the next outage starts again at the initial back-off",
    "attempt_limit": SUB + " Subchannel::OnRetryTimerLocked() (:864) reports IDLE and " + PF_F + " asks again (case GRPC_CHANNEL_IDLE :452): nothing counts attempts; they go on until the channel is closed",
    "failover": PF + " PickFirstSubchannelData::ProcessConnectivityChangeLocked() (:300): the selected subchannel's loss drops the subchannel list (p->subchannel_list_.reset() :358); ExitIdleLocked() -> AttemptToConnectUsingLatestUpdateArgsLocked() (:216) builds a new list from the resolver's addresses and starts at subchannel(0) (:388): the top of the list again, the lost server first if it is first",
    "shuffle": PF + " PickFirstFactory::ParseLoadBalancingConfig() (:531) ignores its JSON (1.51 has no shuffleAddressList); AttemptToConnectUsingLatestUpdateArgsLocked() keeps the resolver's order, and the ipv4: resolver keeps the target's (" + CORE
    + " src/core/ext/filters/client_channel/resolver/sockaddr/sockaddr_resolver.cc ParseUri() :76 splits it on ',')",
    "first_connect": PF + " PickFirstSubchannelData::ProcessConnectivityChangeLocked() (:300): one address at a time, in list order: subchannel(0) first (:388), the next when the current one reports TRANSIENT_FAILURE (:400); 1.51 has no happy-eyeballs timer in pick_first, so attempts never overlap; the channel reports TRANSIENT_FAILURE only once every address failed (\"failed to connect to all addresses\" :433), and the walk never ends: in the same step it goes back to subchannel(0), asked again at once if its back-off has run out (IDLE, :447) or when it has (:452), so a failed first pass is followed by the next before any RPC sees the failure",
    "connect_deadline": SUB + " Subchannel::StartConnectingLocked() (:871): args.deadline = max(next_attempt_time_, now + min_connect_timeout_), min_connect_timeout_ = grpc.min_reconnect_backoff_ms (default 20 s, at least 100 ms; ParseArgsForBackoffValues() :580; grpc_types.h documents it as \"The minimum time between subsequent connection attempts\"); the deadline covers TCP, the HTTP/2 preface and the server's SETTINGS ("
    + CONN_F + " Chttp2Connector::OnTimeout() :218: \"connection attempt timed out before receiving SETTINGS frame\")",
    "idle_reconnect": PF + " PickFirstSubchannelData::ProcessConnectivityChangeLocked() (:300): after a loss the channel is IDLE (:358) and no attempt starts until ExitIdleLocked(): an RPC's pick (" + CORE + " src/core/lib/load_balancing/lb_policy.cc QueuePicker::Pick() :60) or check_connectivity_state(try_to_connect=1) (" + CC_F
    + " ClientChannel::CheckConnectivityState() :1791); " + PYCH + " _poll_connectivity() (:1376) passes subscribe()'s try_to_connect once, not at later IDLEs",
    "liveness_none": H2 + " init_transport_keepalive_settings() (:398): the client's keepalive time is DEFAULT_CLIENT_KEEPALIVE_TIME_MS INT_MAX (:99), so there is no keepalive PING unless grpc.keepalive_time_ms is set; a silent link is then noticed only by TCP (retransmission timeout) on a write",
    "liveness": H2 + " init_keepalive_ping_locked() (:2592): keepalive_time after the last read (each read restarts the timer, :2394) a PING is sent if grpc.keepalive_permit_without_calls or a stream is open; start_keepalive_ping_locked() (:2637) arms a watchdog of grpc.keepalive_timeout_ms (default 20 s, :100); keepalive_watchdog_fired_locked() (:2704) closes the transport UNAVAILABLE \"keepalive watchdog timeout\". read_channel_args() (:274) floors keepalive_time at 1 ms only (no 10 s floor on this client), but "
    + WR_F + " maybe_initiate_ping() (:83) sends a client PING at most once a second (:124), and no more than grpc.http2.max_pings_without_data (default 2, :107) PINGs until the client writes data or headers (:99); keepalive also sets TCP_USER_TIMEOUT = keepalive_timeout (src/core/lib/iomgr/socket_utils_common_posix.cc grpc_set_socket_tcp_user_timeout())",
    "overall_timeout": SUB + " Subchannel::OnRetryTimerLocked() (:864) and " + PF_F + " PickFirst::ExitIdleLocked() (:198): no reconnection deadline; attempts go on until the channel is closed (an RPC's deadline bounds only that RPC)",
    "lame_duck": H2 + " grpc_chttp2_add_incoming_goaway() (:967): a GOAWAY makes the transport report TRANSIENT_FAILURE (\"got_goaway\", :1034); the subchannel takes it as the connection's end (IDLE, " + SUB_F
    + " :310) and pick_first goes IDLE: no reconnect of its own (idle_reconnect), streams already open finish on the old connection, the next RPC or try_to_connect reconnects from the top of the list; a GOAWAY too_many_pings doubles the keepalive time of later connections (:1015)",
    "delivery": CORE + " src/core/ext/filters/client_channel/retry_filter.cc RetryFilter::CallData::CallAttempt::BatchData::RecvTrailingMetadataReady() (:1759): only transparent retries of an RPC that never left the client or that the server never saw; configurable retries need a retryPolicy in the service config (none is set); a Send is a unary RPC written once and, if its connection dies, failed UNAVAILABLE, not resent",
    "buffer": CC + " ClientChannel::LoadBalancedCall::PickSubchannelLocked() (:3085): no message buffer; a fail-fast RPC made while the channel is IDLE or CONNECTING waits for a pick (QueuePick :3140) and fails UNAVAILABLE as soon as the channel reports TRANSIENT_FAILURE (FailPick :3150, wait_for_ready false): it is not kept past a failed pass over the list",
    "close_error": PF + " PickFirstSubchannelData::ProcessConnectivityChangeLocked() (:300): at TRANSIENT_FAILURE a fail-fast RPC fails with \"failed to connect to all addresses; last error: \" + the last address's status (:433): only the last address is named",
    "discovery": PF + " PickFirst::AttemptToConnectUsingLatestUpdateArgsLocked() (:216) uses only the resolver's addresses (the ipv4: target); HTTP/2 and gRPC have no server list for a server to advertise",
}


# round_robin (grpc.lb_policy_name "round_robin"), cited by function: the
# file as read at grpc/grpc commit 90868cc (the 1.51 era: the same
# subchannel_list.h, lb_policy and ServerAddress APIs as the 1.51.1 files
# above; no line numbers, that commit not being the v1.51.1 tag).
PICK_FIRST, ROUND_ROBIN = "pick_first", "round_robin"
RR = CORE + " " + RR_F
CITE_RR = {
    "first_attempt": SUB + " ConnectedSubchannelStateWatcher::OnConnectivityStateChange() (:310): a READY connection's loss sets the subchannel IDLE and resets its back-off; "
    + RR + " RoundRobinSubchannelData::ProcessConnectivityChangeLocked(): a subchannel reporting IDLE is asked to connect at once (subchannel()->RequestConnection()), no wait",
    "failover": RR + " RoundRobinSubchannelList::MaybeUpdateRoundRobinConnectivityStateLocked(): the channel stays READY while any subchannel is, with a new Picker over the READY ones only (Picker::Picker()): after a loss the RPCs go on at once to the next READY backend while the lost one reconnects on its own",
    "shuffle": RR + " Picker::Picker(): the READY subchannels in address order (the ipv4: target's), the first pick at a random index (last_picked_index_ = rand() % size, \"see grpc-go issue 2580\"), then Picker::Pick() (last_picked_index_ + 1) % size: a random start, never a shuffle of the list",
    "first_connect": RR + " RoundRobin::UpdateLocked() -> SubchannelList::StartWatchingLocked(): every address's subchannel connects at once; the channel is READY at the first READY one (MaybeUpdateRoundRobinConnectivityStateLocked()) and TRANSIENT_FAILURE once all failed",
    "idle_reconnect": RR + " RoundRobinSubchannelData::ProcessConnectivityChangeLocked(): a subchannel that reports IDLE (its connection ended, or its back-off ran out) is asked to connect at once (RequestConnection()): nothing need ask",
    "close_error": RR + " RoundRobinSubchannelList::MaybeUpdateRoundRobinConnectivityStateLocked(): with every subchannel in TRANSIENT_FAILURE an RPC fails \"connections to all backends failing; last error: \" + the last failed subchannel's status: only the last address is named",
    "delay_applies": SUB + " Subchannel::StartConnectingLocked() sets next_attempt_time_ = backoff_.NextAttemptTime() as each attempt starts and OnConnectingFinishedLocked() waits for it: each address (subchannel) keeps its own back-off; round_robin asks each again as soon as it is IDLE (" + RR_F + " ProcessConnectivityChangeLocked()), so one sleep precedes each attempt of an address",
}


def term(value, cite):
    return {"value": value, "cite": cite}


def builtin():
    """The library's contract with its defaults: no keepalive, back-off 1 s
    ×1.6 to 120 s ±20 %, attempts of at least 20 s, pick_first."""
    return {
        "first_attempt": term("immediate", CITE["first_attempt"]),
        "delay_applies": term("per_attempt", CITE["delay_applies"]),
        "delay": term("exponential", CITE["delay"]),
        "jitter": term("symmetric", CITE["jitter"]),
        "first_wait": term("exact", CITE["first_wait"]),
        "reset": term("on_success", CITE["reset"]),
        "attempt_limit": term("none", CITE["attempt_limit"]),
        "failover": term("top", CITE["failover"]),
        "shuffle": term("none", CITE["shuffle"]),
        "first_connect": term("cascade", CITE["first_connect"]),
        "connect_deadline": term("max_backoff", CITE["connect_deadline"]),
        "idle_reconnect": term("on_demand", CITE["idle_reconnect"]),
        "liveness": term("none", CITE["liveness_none"] + " (with grpc.keepalive_time_ms: ping: " + CITE["liveness"] + ")"),
        "overall_timeout": term("none", CITE["overall_timeout"]),
        "lame_duck": term("none", CITE["lame_duck"]),
        "delivery": term("at_most_once", CITE["delivery"]),
        "buffer": term("none", CITE["buffer"]),
        "close_error": term("last_error", CITE["close_error"]),
        "discovery": term("ignore", CITE["discovery"]),
    }


def hello(version, sessions):
    h = {"sdk": SDK, "version": version, "protocol": PROTOCOL, "features": list(FEATURES), "contract": builtin()}
    if sessions > 1:
        h["sessions"] = sessions
    return h


# ---------------------------------------------------------------------------
# Options.

def keepalive_for(liveness_ms):
    """(keepalive time, keepalive timeout, detect) in ms for a liveness
    bound L, and why L cannot be met (None when it can).

    The PING goes out keepalive_time T after the last read, but no sooner
    than a second after the previous PING; the watchdog closes the
    connection keepalive_timeout TO later. So a silent link is noticed
    within max(T, 1 s) + TO of the last thing read. T = TO = L/2 meets L
    from L = 2 s; below that the once-a-second floor decides."""
    t = max(1, liveness_ms // 2)
    to = max(1, liveness_ms - t)
    detect = max(t, PING_FLOOR_MS) + to
    why = None
    if detect > liveness_ms:
        why = ("liveness %d ms cannot be met: the client sends a PING at most once a second (writing.cc maybe_initiate_ping() :124); "
               "keepalive_time %d ms + keepalive_timeout %d ms notice a silent link within %d ms" % (liveness_ms, t, to, detect))
    return t, to, detect, why


def _clamped(name, asked, unsup, option):
    """A back-off arg's effective value: ParseArgsForBackoffValues() takes
    at least 100 ms."""
    if asked < FLOOR_MS:
        unsup.append({"option": option, "reason": "%s %g ms is below the C core's floor: ParseArgsForBackoffValues() takes max(100 ms, %s): 100 ms used" % (name, asked, name)})
        return FLOOR_MS
    return int(round(asked))


def plan_for(servers, options, _environ=None):
    """What a connect asks of grpcio: (plan, effective contract)."""
    if not isinstance(servers, list) or not servers:
        raise BadOptions("connect: no servers")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise BadOptions("options: want an object")
    addrs = []
    for s in servers:
        try:
            addrs.append(wire.parse_server(s))
        except ValueError as e:
            raise BadOptions(str(e))
    c = builtin()
    unsup, adds = [], []
    p = {"servers": list(servers), "addresses": addrs, "target": wire.target_for(addrs)}
    urls = {}
    for s, a in zip(servers, addrs):
        urls.setdefault(a, s)
    p["urls"] = urls  # address -> the first URL naming it

    # The load-balancing policy (client.library.grpc.lb_policy).
    g = _block(_block(options, "library"), "grpc")
    p["lb_policy"] = _get(g, "lb_policy", str, PICK_FIRST)
    if p["lb_policy"] not in (PICK_FIRST, ROUND_ROBIN):
        raise BadOptions("option grpc.lb_policy: %r is neither %s nor %s" % (p["lb_policy"], PICK_FIRST, ROUND_ROBIN))
    rr = p["lb_policy"] == ROUND_ROBIN

    # Failover: pick_first always walks the list, from the top.
    fo = _block(options, "failover")
    if len(servers) > 1 and rr:
        if not _get(fo, "auto", bool, False):
            unsup.append({"option": "failover.auto", "reason": "cannot be switched off: round_robin goes on with the other READY backends after a loss (" + RR_F + " MaybeUpdateRoundRobinConnectivityStateLocked())"})
        if not _get(fo, "cascading", bool, False):
            unsup.append({"option": "failover.cascading", "reason": "cannot be switched off: round_robin connects every address at once (" + RR_F + " StartWatchingLocked())"})
    elif len(servers) > 1:
        if not _get(fo, "auto", bool, False):
            unsup.append({"option": "failover.auto", "reason": "cannot be switched off: after a loss pick_first walks the whole list again from the top (" + PF_F + " AttemptToConnectUsingLatestUpdateArgsLocked())"})
        if not _get(fo, "cascading", bool, False):
            unsup.append({"option": "failover.cascading", "reason": "cannot be switched off: pick_first walks the whole list at the first connect (" + PF_F + " ProcessConnectivityChangeLocked() :400)"})
    if _get(fo, "load_balancing", bool, False):
        unsup.append({"option": "failover.load_balancing", "reason": "grpcio 1.51's pick_first never shuffles its addresses: PickFirstFactory::ParseLoadBalancingConfig() ignores its config (no shuffleAddressList before gRFC A62's implementation in later releases)"})

    # Reconnection: the back-off channel args.
    r = _block(options, "reconnect")
    p["reconnect"] = _get(r, "enabled", bool, True)
    st = _block(r, "strategy")
    backoff = _get(st, "backoff", str, "")
    initial = _get(st, "initial_ms", float, 0.0)
    mx = _get(st, "max_ms", float, 0.0)
    # faultline draws each wait in [(1 - j)·d, d] (below); the C core in
    # d·[1 - 0.2, 1 + 0.2] (symmetric, fixed). The library's band is centred
    # on the scenario's: d scaled by 1 - j/2 (as drivers/grpc-go does); the
    # widths agree only when (j/2)/(1 - j/2) = 0.2, i.e. j = 1/3.
    jit = _get(st, "jitter", float, 0.0) if st else 0.0
    centre = 1 - jit / 2
    initial, mx = initial * centre, mx * centre
    p["initial_ms"], p["max_ms"] = DEFAULT_INITIAL_MS, DEFAULT_MAX_MS
    p["args"] = {}
    if initial > 0:
        p["initial_ms"] = _clamped("initial_reconnect_backoff_ms", initial, unsup, "reconnect.strategy.initial_ms")
        if backoff == "fixed":
            p["max_ms"] = p["initial_ms"]
            c["delay"] = term("constant", CITE["delay"] + "; grpc.initial_reconnect_backoff_ms = grpc.max_reconnect_backoff_ms = %d: min(%d * 1.6^n, %d) = %d, jitter still applied after the first wait" % ((p["initial_ms"],) * 4))
        else:
            if mx > 0:
                p["max_ms"] = _clamped("max_reconnect_backoff_ms", mx, unsup, "reconnect.strategy.max_ms")
                if p["max_ms"] < p["initial_ms"]:
                    unsup.append({"option": "reconnect.strategy.max_ms", "reason": "%g ms is below initial_ms: the C core's first wait is the initial back-off whatever the cap (NextAttemptTime()), so max %d ms is used" % (mx, p["initial_ms"])})
                    p["max_ms"] = p["initial_ms"]
            mult = _get(st, "multiplier", float, 0.0)
            if mult > 0 and abs(mult - MULTIPLIER) > 1e-9:
                unsup.append({"option": "reconnect.strategy.multiplier", "reason": "%g cannot be expressed: the multiplier is the C core's GRPC_SUBCHANNEL_RECONNECT_BACKOFF_MULTIPLIER 1.6 (subchannel.cc :70), no channel arg sets it; 1.6 is used" % mult})
        p["args"]["grpc.initial_reconnect_backoff_ms"] = p["initial_ms"]
        p["args"]["grpc.max_reconnect_backoff_ms"] = p["max_ms"]
    elif mx > 0:
        p["max_ms"] = max(_clamped("max_reconnect_backoff_ms", mx, unsup, "reconnect.strategy.max_ms"), p["initial_ms"])
        p["args"]["grpc.max_reconnect_backoff_ms"] = p["max_ms"]
    if st:
        half = (jit / 2) / centre if centre > 0 else 0.0
        if abs(half - JITTER) > 1e-6:
            unsup.append({"option": "reconnect.strategy.jitter", "reason": "%g cannot be expressed: the scenario's band [(1 - %g)·d, d] is d·%g·[1 ± %.3g] around its centre, and the C core draws every wait but the first from d * U[0.8, 1.2] (GRPC_SUBCHANNEL_RECONNECT_JITTER 0.2, subchannel.cc :73; backoff.cc NextAttemptTime()), no channel arg sets it: the waits are centred as asked (initial and max scaled by %g) with the effective 0.2 (symmetric); only jitter 1/3 is the same band" % (jit, jit, centre, half, centre)})
    if _get(st, "attempts", int, 0) > 0:
        unsup.append({"option": "reconnect.strategy.attempts", "reason": "grpcio has no attempt limit: nothing counts attempts (" + CITE["attempt_limit"] + ")"})
    if _get(r, "timeout_ms", int, 0) > 0 and p["reconnect"]:
        unsup.append({"option": "reconnect.timeout_ms", "reason": "grpcio has no overall reconnection deadline; the driver does not emulate one"})
    if _get(r, "retention_ms", int, 0) > 0:
        unsup.append({"option": "reconnect.retention_ms", "reason": "gRPC has no session for a server to keep: each connection is new (the driver's Hello names it)"})
    if _get(r, "buffer", int, 0) > 0:
        unsup.append({"option": "reconnect.buffer", "reason": "grpcio has no message buffer: a fail-fast RPC waits for a pick only until the channel reports TRANSIENT_FAILURE"})

    # Attempts and liveness.
    ct = _get(options, "connect_timeout_ms", int, 0)
    p["min_connect_timeout_ms"] = DEFAULT_MIN_CONNECT_TIMEOUT_MS
    if ct > 0:
        p["min_connect_timeout_ms"] = _clamped("min_reconnect_backoff_ms", ct, unsup, "connect_timeout_ms")
        p["args"]["grpc.min_reconnect_backoff_ms"] = p["min_connect_timeout_ms"]
    c["connect_deadline"] = term("max_backoff", CITE["connect_deadline"] + "; here max(current back-off, %d ms)" % p["min_connect_timeout_ms"])
    live = _get(options, "liveness_ms", int, 0)
    p["keepalive_time_ms"] = p["keepalive_timeout_ms"] = p["detect_ms"] = None
    if live > 0:
        t, to, detect, why = keepalive_for(live)
        p["keepalive_time_ms"], p["keepalive_timeout_ms"], p["detect_ms"] = t, to, detect
        p["args"]["grpc.keepalive_time_ms"] = t
        p["args"]["grpc.keepalive_timeout_ms"] = to
        p["args"]["grpc.keepalive_permit_without_calls"] = 1
        p["args"]["grpc.http2.max_pings_without_data"] = 0
        if why:
            unsup.append({"option": "liveness_ms", "reason": why})
        c["liveness"] = term("ping", CITE["liveness"] + "; keepalive_time %d ms, keepalive_timeout %d ms, permit_without_calls 1, max_pings_without_data 0: a silent link is noticed within max(%d, 1000) + %d = %d ms" % (t, to, t, to, detect))
        adds.append({"what": "channel args grpc.keepalive_permit_without_calls=1 and grpc.http2.max_pings_without_data=0 beside the keepalive time/timeout",
                     "why": "liveness_ms asks that a silent link be noticed whether or not an RPC is open; with the defaults the client pings only while a stream is open (init_keepalive_ping_locked()) and stops after 2 PINGs until it writes data (writing.cc maybe_initiate_ping() :99)"})

    # What the library does not have.
    if _get(options, "keep_session", bool, False):
        unsup.append({"option": "keep_session", "reason": "gRPC keeps no session past its connection: each connection is a new Hello"})
    delivery = _get(options, "delivery", str, "")
    if delivery not in ("", "at_most_once"):
        unsup.append({"option": "delivery", "reason": "%r cannot be expressed: a Send is one unary RPC, failed (not resent) with its connection; at_most_once is used" % delivery})
    if _get(options, "principal", str, "") or _get(options, "credentials", str, ""):
        unsup.append({"option": "principal", "reason": "the gRPC pack's servers are plaintext h2c without authentication (insecure channel)"})
    if _get(_block(options, "migration"), "enabled", bool, False):
        unsup.append({"option": "migration", "reason": "gRPC has no server-initiated move to a named target: a GOAWAY only ends the connection"})
    if isinstance(options.get("router"), dict):
        unsup.append({"option": "router", "reason": "grpcio is not a router: one channel per client"})

    # The driver's own options (options.library.grpc: the scenario's
    # client.library.grpc).
    p["idle_connect"] = _get(g, "idle_connect", bool, True)
    for k in g:
        if k not in ("idle_connect", "lb_policy"):
            raise BadOptions("option grpc.%s: unknown (known: idle_connect, lb_policy)" % k)

    # Channel args every session gets.
    p["args"]["grpc.lb_policy_name"] = p["lb_policy"]
    p["args"]["grpc.use_local_subchannel_pool"] = 1
    p["args"]["grpc.enable_channelz"] = 1
    p["first_connect_deadline_ms"] = FIRST_CONNECT_CAP_MS
    n = len(servers)
    if n * p["min_connect_timeout_ms"] > FIRST_CONNECT_CAP_MS:
        unsup.append({"option": "connect_timeout_ms", "reason": "a first connect is cut by the driver at %d ms (the harness's op timeout is 10 s): %d server(s) x at least %d ms per attempt may not all be tried" % (FIRST_CONNECT_CAP_MS, n, p["min_connect_timeout_ms"])})

    # What the driver adds.
    adds.append({"what": "a Hello RPC (faultline.grpc.Feed/Hello, metadata faultline-client) on every connection that reaches READY; CONNECTED_ACTIVE is reported once it answers, with its session",
                 "why": "the gRPC pack's wire agreement: gRPC has no client identity on a connection, the server attributes the connection to the client by the Hello"})
    adds.append({"what": "the first connect is the first Hello, a fail-fast RPC with a %d ms deadline: its failure (UNAVAILABLE at the channel's first TRANSIENT_FAILURE, i.e. every address failed once) closes the channel, CLOSED_FAILED connection_error" % FIRST_CONNECT_CAP_MS,
                 "why": "grpcio never gives up on a channel; faultline's first connect either reaches CONNECTED_ACTIVE or fails, within the op timeout; a fail-fast RPC is how an application learns the channel cannot connect"})
    if p["idle_connect"]:
        adds.append({"what": "on every IDLE the channel reports, the driver asks it to connect: channel._channel.check_connectivity_state(True), at once",
                     "why": "pick_first goes IDLE after a loss and reconnects only when asked (idle_reconnect: on_demand); an application with an open stream re-opens it, which asks the same; client.library.grpc.idle_connect: false turns this off"})
    else:
        c["idle_reconnect"] = term("on_demand", CITE["idle_reconnect"] + "; client.library.grpc.idle_connect false: the driver does not ask, so after a loss the channel stays IDLE until the next RPC (a send or request op)")
    adds.append({"what": "Subscribe streams are re-opened by the driver once the session is CONNECTED_ACTIVE again (on the new connection; one that outlives a GOAWAY is re-opened when it ends)",
                 "why": "a server stream ends with its connection (UNAVAILABLE) and grpcio never re-opens it"})
    adds.append({"what": "the driver watches the channel's connectivity itself, with channel.subscribe()'s own calls (check_connectivity_state(True) once, then watch_connectivity_state() from the last state seen) but watches of 50 ms instead of 0.2 s, and starts no watch once it closes the channel",
                 "why": "channel.close() cannot cancel a pending watch and waits for it before destroying the channel (cygrpc _close(), grpc issue #3064); meanwhile the subchannels go on with their attempts: with subscribe() a channel closed after a failed first connect was seen making one more attempt"})
    adds.append({"what": "channel args grpc.use_local_subchannel_pool=1 and grpc.enable_channelz=1",
                 "why": "one process hosts many clients: the global subchannel pool would share one connection between channels with the same target and args; channelz names the address of the READY subchannel (the state event's server)"})
    if rr:
        for k, v in CITE_RR.items():
            c[k] = term({"first_attempt": "immediate", "failover": "next", "shuffle": "none", "first_connect": "cascade",
                         "idle_reconnect": "auto", "close_error": "last_error", "delay_applies": "per_attempt"}[k], v)
        adds.append({"what": "under round_robin the driver watches channelz (every 50 ms) for the end of the subchannel its CONNECTED_ACTIVE names: then RECOVERING_RECONNECT and a new Hello, whose subchannel (the one whose channelz callsStarted grew) names the next CONNECTED_ACTIVE",
                     "why": "the channel stays READY while any backend is (a loss of one is no change of its connectivity), and a client call has no peer() in grpcio: channelz is where the subchannels' states and calls are"})
    if not p["reconnect"]:
        adds.append({"what": "reconnect.enabled false: at the first loss the driver closes the channel (channel.close()) and reports CLOSED_FAILED connection_lost",
                     "why": "grpcio has no reconnect opt-out (any RPC reconnects an IDLE channel)"})
        c["buffer"] = term("none", CITE["buffer"] + "; the channel is closed at the loss (driver)")

    c["params"] = {
        "initial_ms": p["initial_ms"], "multiplier": MULTIPLIER, "max_ms": p["max_ms"], "jitter": JITTER,
        "first_wait_exact": True, "min_connect_timeout_ms": p["min_connect_timeout_ms"], "overlap_ms": 0,
        "target": p["target"], "lb_policy": p["lb_policy"], "shuffle_address_list": False, "idle_connect": p["idle_connect"],
        "first_connect_deadline_ms": FIRST_CONNECT_CAP_MS, "hello_timeout_ms": HELLO_TIMEOUT_MS,
        "channel_args": dict(p["args"]),
    }
    if p["detect_ms"] is not None:
        c["params"]["detect_ms"] = p["detect_ms"]
        c["params"]["keepalive_time_ms"] = p["keepalive_time_ms"]
        c["params"]["keepalive_timeout_ms"] = p["keepalive_timeout_ms"]
    if unsup:
        c["unsupported"] = unsup
    c["driver_adds"] = adds
    against.misconfigure(p, c, _environ, BadOptions)  # FAULTLINE_GRPC_AGAINST (against.py)
    return p, c

"""Session states, close reasons and the errors the engine reports.

The strings are the driver protocol's (docs/driver-protocol.md): the harness
compares them verbatim, so they must not drift.
"""

CONNECTING = "CONNECTING"
CONNECTED_ACTIVE = "CONNECTED_ACTIVE"
RECOVERING_RECONNECT = "RECOVERING_RECONNECT"
CLOSED_BY_CLIENT = "CLOSED_BY_CLIENT"
CLOSED_BY_SERVER = "CLOSED_BY_SERVER"
CLOSED_FAILED = "CLOSED_FAILED"


def is_closed(state):
    """A closed session never reopens."""
    return state in (CLOSED_BY_CLIENT, CLOSED_BY_SERVER, CLOSED_FAILED)


# Reasons carried into CLOSED_*, and by the CONNECTING of a failover.
R_CLOSED_BY_CLIENT = "closed_by_client"
R_CLOSED_BY_SERVER = "closed_by_server"
R_RECONNECT_ABORTED = "reconnect_aborted"
R_RECONNECT_TIMEOUT = "reconnect_timeout"
R_CONNECTION_ERROR = "connection_error"  # no connection could be made (the walk ran out)
R_CONNECTION_LOST = "connection_lost"  # lost with reconnection off
R_HANDSHAKE = "handshake_rejected"
R_ACCESS_DENIED = "access_denied"
R_UNKNOWN_SESSION = "unknown_session"
R_LOST_MESSAGES = "lost_messages"

_REFUSALS = (R_ACCESS_DENIED, R_UNKNOWN_SESSION, R_LOST_MESSAGES, R_HANDSHAKE)


def refusal_reason(wire_reason):
    """The close reason for a server's refusal reason."""
    return wire_reason if wire_reason in _REFUSALS else R_HANDSHAKE


class TransportError(Exception):
    """A dial, read or write failed, or the connection ended."""


class ProtocolError(Exception):
    """The server said something the protocol does not allow."""

    def __init__(self, why):
        super().__init__(f"protocol error: {why}")


class AttemptError(Exception):
    """One failed attempt of a cascade or failover, reported before the next
    server is tried."""

    def __init__(self, server, cause):
        super().__init__(f"attempt on {server} failed: {cause}")
        self.server = server


class CloseError(Exception):
    """Why a session closed. When the close ended a cascade or failover,
    `tried` lists every server tried, in order, and the message names them (C2)."""

    def __init__(self, state, reason, server, session="", tried=None, cause=None):
        msg = f"session {state} ({reason}) at {server}"
        if tried:
            msg += f" after trying {len(tried)} server(s): {', '.join(tried)}"
        if cause is not None:
            msg += f": {cause}"
        super().__init__(msg)
        self.state, self.reason, self.server, self.session = state, reason, server, session
        self.tried = list(tried or [])

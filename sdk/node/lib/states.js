// Session states, close reasons and errors. The strings are those of the
// driver protocol (harness/driver/driver.go): the harness compares them
// verbatim, so they must not drift.

export const State = Object.freeze({
  CONNECTING: 'CONNECTING',
  CONNECTED_ACTIVE: 'CONNECTED_ACTIVE',
  RECOVERING_RECONNECT: 'RECOVERING_RECONNECT',
  CLOSED_BY_CLIENT: 'CLOSED_BY_CLIENT',
  CLOSED_BY_SERVER: 'CLOSED_BY_SERVER',
  CLOSED_FAILED: 'CLOSED_FAILED',
});

// isClosed reports whether a state is terminal: a closed session never reopens.
export function isClosed(state) {
  return state === State.CLOSED_BY_CLIENT || state === State.CLOSED_BY_SERVER || state === State.CLOSED_FAILED;
}

// Reasons carried by a change into CLOSED_*, and by the CONNECTING of a
// failover (why the old session was given up).
export const Reason = Object.freeze({
  CLOSED_BY_CLIENT: 'closed_by_client',
  CLOSED_BY_SERVER: 'closed_by_server',
  RECONNECT_ABORTED: 'reconnect_aborted',
  RECONNECT_TIMEOUT: 'reconnect_timeout',
  CONNECTION_ERROR: 'connection_error', // no connection could be made (cascade or failover ran out)
  CONNECTION_LOST: 'connection_lost', // lost with reconnection off
  HANDSHAKE: 'handshake_rejected',
  ACCESS_DENIED: 'access_denied',
  UNKNOWN_SESSION: 'unknown_session',
  LOST_MESSAGES: 'lost_messages',
});

// Error codes, so callers can tell failures apart without parsing messages.
export const Code = Object.freeze({
  CLOSED: 'ERR_SESSION_CLOSED',
  BUFFER_FULL: 'ERR_RECOVERY_BUFFER_FULL',
  IDLE: 'ERR_CONNECTION_IDLE',
  ABORTED: 'ERR_RECONNECT_ABORTED',
  TIMEOUT: 'ERR_RECONNECT_TIMEOUT',
  PROTOCOL: 'ERR_PROTOCOL',
  DISCARDED: 'ERR_SENDS_DISCARDED',
  ATTEMPT: 'ERR_ATTEMPT_FAILED',
  REFUSED: 'ERR_REFUSED',
  TRANSPORT: 'ERR_TRANSPORT',
});

export function codedError(code, message, cause) {
  const e = new Error(message, cause ? { cause } : undefined);
  e.code = code;
  return e;
}

export function protocolError(message) {
  return codedError(Code.PROTOCOL, `protocol error: ${message}`);
}

// AttemptError is one failed attempt of a cascade or failover, reported
// through onError before the next server is tried.
export class AttemptError extends Error {
  constructor(server, cause) {
    super(`attempt on ${server} failed: ${cause?.message ?? cause}`, { cause });
    this.name = 'AttemptError';
    this.code = Code.ATTEMPT;
    this.server = server;
  }
}

// CloseError says why a session closed: what open() rejects with when the
// first connection fails, and what `done` resolves to. When the close ended
// a cascade or a failover, `tried` lists every server URL tried, in order,
// and the message names each of them (C2).
export class CloseError extends Error {
  constructor({ state, reason, server, session, tried, cause }) {
    let msg = `session ${state} (${reason}) at ${server}`;
    if (tried && tried.length > 0) msg += ` after trying ${tried.length} server(s): ${tried.join(', ')}`;
    if (cause) msg += `: ${cause.message ?? cause}`;
    super(msg, cause ? { cause } : undefined);
    this.name = 'CloseError';
    this.code = Code.CLOSED;
    this.state = state;
    this.reason = reason;
    this.server = server;
    this.session = session;
    this.tried = tried ? [...tried] : [];
  }
}

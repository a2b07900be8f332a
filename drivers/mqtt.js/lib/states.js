'use strict'
// The session states of docs/driver-protocol.md, their neutral phases, and
// the lifecycle rule U1's transition table.

const CONNECTING = 'CONNECTING'
const ACTIVE = 'CONNECTED_ACTIVE'
const RECOVERING = 'RECOVERING_RECONNECT'
const BY_CLIENT = 'CLOSED_BY_CLIENT'
const BY_SERVER = 'CLOSED_BY_SERVER'
const FAILED = 'CLOSED_FAILED'

const PHASES = {
  [CONNECTING]: 'connecting',
  [ACTIVE]: 'connected',
  [RECOVERING]: 'recovering',
  [BY_CLIENT]: 'closed_by_client',
  [BY_SERVER]: 'closed_by_server',
  [FAILED]: 'closed_failed'
}

function isClosed (s) { return s === BY_CLIENT || s === BY_SERVER || s === FAILED }

// legal is U1: (first) → CONNECTING; CONNECTING → CONNECTED_ACTIVE |
// CLOSED_*; CONNECTED_ACTIVE and RECOVERING_RECONNECT → each other's
// forward moves, CONNECTING (failover) or CLOSED_*; nothing out of CLOSED_*.
function legal (from, to) {
  switch (from) {
    case '': return to === CONNECTING
    case CONNECTING: return to === ACTIVE || isClosed(to)
    case ACTIVE: return to === RECOVERING || to === CONNECTING || isClosed(to)
    case RECOVERING: return to === ACTIVE || to === CONNECTING || isClosed(to)
    default: return false
  }
}

module.exports = { CONNECTING, ACTIVE, RECOVERING, BY_CLIENT, BY_SERVER, FAILED, PHASES, isClosed, legal }

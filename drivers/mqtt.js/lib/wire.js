'use strict'
// What the driver reads and writes through MQTT: CONNACK return codes and
// the close reasons they mean, the numbered payload of a send, the number
// of a message.

const CONNACK_TEXT = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized'
}

// The close reason of a first connect whose last attempt failed so.
function reasonOf (refused) {
  if (refused === 4 || refused === 5) return 'access_denied'
  if (refused >= 1) return 'handshake_rejected'
  return 'connection_error'
}

function errText (e) { return String((e && (e.message || e.code)) || e) }

// numbered is what a send publishes: the client's send number n, and the
// op's payload when it has one (the broker's receive records Seq = n).
function numbered (n, payload) {
  return JSON.stringify(payload === undefined || payload === null ? { n } : { n, payload })
}

// seqOf is a message's number: {"n": N} (or {"seq": N}), or a bare integer;
// else undefined.
function seqOf (payload) {
  let v
  try {
    v = JSON.parse(payload.toString('utf8'))
  } catch {
    return undefined
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) v = v.n ?? v.seq
  return Number.isSafeInteger(v) ? v : undefined
}

module.exports = { CONNACK_TEXT, reasonOf, errText, numbered, seqOf }

// The session protocol of faultline (wire/wire.go in the Go tree): JSON
// frames, one per WebSocket text message. This file is the Node side of that
// contract; keep it in step with wire.go, which is the source of truth.
//
//   client                              server
//   hello{principal,credentials,...} ─►
//                                    ◄─ welcome{session,token,ping_ms,retention_ms}  (new session)
//                                    ◄─ resumed{session,received} + replayed msgs    (recovery)
//                                    ◄─ refused{reason}, then close
//   sub{topic}                       ─►
//                                    ◄─ msg{topic,seq,data}
//   send{n,payload}                  ─►  (n counts the client's sends from 1)
//                                    ◄─ ack{n}
//                                    ◄─ ping{}  every ping_ms
//   pong{}                           ─►
//   ack{topic,seq}                   ─►  (lets the server trim its recovery buffer)
//   close{}                          ─►  (deliberate close by the client)
//                                    ◄─ closed{reason}  (deliberate close by the server)

export const T = Object.freeze({
  HELLO: 'hello',
  WELCOME: 'welcome',
  RESUMED: 'resumed',
  REFUSED: 'refused',
  SUB: 'sub',
  MSG: 'msg',
  SEND: 'send',
  ACK: 'ack',
  PING: 'ping',
  PONG: 'pong',
  CLOSE: 'close',
  CLOSED: 'closed',
});

// Refusal and close reasons sent by servers.
export const WireReason = Object.freeze({
  ACCESS_DENIED: 'access_denied',
  UNKNOWN_SESSION: 'unknown_session',
  LOST_MESSAGES: 'lost_messages',
  BAD_HANDSHAKE: 'handshake_rejected',
  BY_SERVER: 'closed_by_server',
  BY_CLIENT: 'closed_by_client',
});

// The largest frame either side accepts (wire.MaxFrame).
export const MAX_FRAME = 1 << 20;

const KNOWN = new Set(Object.values(T));
const STRINGS = ['t', 'principal', 'credentials', 'session', 'token', 'reason', 'topic'];
const COUNTS = ['retention_ms', 'received', 'ping_ms', 'seq', 'n'];

export class FrameError extends Error {
  constructor(message) {
    super(`bad frame: ${message}`);
    this.name = 'FrameError';
  }
}

// decode parses one frame as strictly as wire.Decode does: a JSON object of
// a known type whose fields have the right types and sane values. Anything
// else is a FrameError: a stream that says nonsense cannot be trusted.
export function decode(text) {
  if (typeof text !== 'string') throw new FrameError('not a text message');
  // Cheap bound first: UTF-8 is at least one byte per UTF-16 unit.
  if (text.length > MAX_FRAME || Buffer.byteLength(text) > MAX_FRAME) {
    throw new FrameError(`${Buffer.byteLength(text)} bytes exceeds ${MAX_FRAME}`);
  }
  let f;
  try {
    f = JSON.parse(text);
  } catch (e) {
    throw new FrameError(e.message);
  }
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new FrameError('not a JSON object');
  for (const k of STRINGS) {
    if (f[k] !== undefined && f[k] !== null && typeof f[k] !== 'string') throw new FrameError(`${k} is not a string`);
  }
  if (!KNOWN.has(f.t)) throw new FrameError(`unknown type ${JSON.stringify(f.t)}`);
  for (const k of COUNTS) {
    const v = f[k];
    if (v === undefined || v === null) continue;
    if (!Number.isSafeInteger(v)) throw new FrameError(`${k} is not an integer in ${f.t} frame`);
    if (v < 0) throw new FrameError(`negative number in ${f.t} frame`);
  }
  if (f.last !== undefined && f.last !== null) {
    if (typeof f.last !== 'object' || Array.isArray(f.last)) throw new FrameError('last is not an object');
    for (const v of Object.values(f.last)) {
      if (!Number.isSafeInteger(v)) throw new FrameError('last holds a non-integer');
    }
  }
  if (f.no_reconnect !== undefined && f.no_reconnect !== null && typeof f.no_reconnect !== 'boolean') {
    throw new FrameError('no_reconnect is not a boolean');
  }
  switch (f.t) {
    case T.SUB:
    case T.MSG:
      if (!f.topic) throw new FrameError(`${f.t} frame without topic`);
      break;
    case T.SEND:
      if (!f.n) throw new FrameError('send frame without n');
      break;
    case T.WELCOME:
    case T.RESUMED:
      if (!f.session) throw new FrameError(`${f.t} frame without session`);
      break;
  }
  return f;
}

// encode renders a frame, leaving out empty fields the way wire.go's
// omitempty does, so that both engines put the same bytes on the wire.
export function encode(f) {
  const out = {};
  for (const [k, v] of Object.entries(f)) {
    if (k === 'data') {
      if (v !== undefined) out.data = v; // null is a payload too (JSON null)
      continue;
    }
    if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return JSON.stringify(out);
}

// The transport under a session: one attempt (dial + WebSocket upgrade +
// hello + the server's answer, bounded by a timeout) and one established
// connection (frames in, frames out, a liveness bound, an abrupt or a
// graceful end). It uses the WHATWG WebSocket that Node 20 ships behind
// --experimental-websocket (undici's), unflagged from Node 22 on.
//
// Everything here reports by callback, synchronously from the socket's event
// handlers, never through promises: a promise continuation runs on a later
// microtask, and undici may dispatch the next message (a replayed msg right
// behind `resumed`) before it, which would then find no handler and be lost.

import diagnostics from 'node:diagnostics_channel';

import { decode, encode, T } from './wire.js';
import { Code, codedError, protocolError } from './states.js';

// How long a deliberate close waits for the server to end the connection
// after our close{} frame (the Go engine's closeGrace).
export const CLOSE_GRACE_MS = 1000;

function webSocketClass(custom) {
  const C = custom ?? globalThis.WebSocket;
  if (typeof C !== 'function') {
    throw new Error('no WebSocket in this Node: run it with --experimental-websocket (Node 20) or use Node >= 22');
  }
  return C;
}

function transportError(message) {
  return codedError(Code.TRANSPORT, message);
}

// Why the transport needs the TCP socket under a WebSocket: undici's
// close() cannot end a connection at once. On an open connection it only
// starts the closing handshake, with no timeout, so against a blackholed
// peer the socket stays CLOSING (and holds the process) until the link
// heals. On a connection still in its upgrade (a held handshake) it aborts
// the request, and undici then opens a second, idle TCP connection to the
// same server (seen here with Node 20's undici 6): the server would count
// an attempt the engine never made. A loss or a timed-out attempt must drop
// the connection at once and make no other, as the Go engine's CloseNow
// does, so drop() destroys the socket itself.
//
// The socket is found through undici's public diagnostics channel
// 'undici:client:sendHeaders' (published with the request's headers and its
// socket when the upgrade request is written): each attempt carries a
// header with its own tag, which maps the socket to its WebSocket. If the
// channel says nothing (another WebSocket implementation), drop() tries the
// socket undici keeps on an open WebSocket, then falls back to close().
const ATTEMPT_HEADER = 'x-faultline-attempt';
const awaiting = new Map(); // tag → WebSocket whose upgrade request has not been seen yet
const socketOf = new WeakMap(); // WebSocket → its TCP socket
let nextTag = 1;
let watching = false;

function watchSockets() {
  if (watching) return;
  watching = true;
  try {
    diagnostics.subscribe('undici:client:sendHeaders', onSendHeaders);
  } catch {
    // no such channel: drop() falls back
  }
}

function onSendHeaders(msg) {
  if (awaiting.size === 0 || !msg || !msg.socket) return;
  const tag = attemptTag(msg.headers);
  const ws = tag === undefined ? undefined : awaiting.get(tag);
  if (!ws) return;
  awaiting.delete(tag);
  socketOf.set(ws, msg.socket);
}

// attemptTag reads our header from undici's raw request headers (a string
// "k: v\r\n…" in undici 6; an array of names and values in others).
function attemptTag(headers) {
  if (typeof headers === 'string') {
    const m = /^x-faultline-attempt:\s*(\d+)\s*$/im.exec(headers);
    return m ? Number(m[1]) : undefined;
  }
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === ATTEMPT_HEADER) return Number(String(headers[i + 1]));
    }
  }
  return undefined;
}

let responseKey; // the undici-internal symbol under which an open WebSocket keeps its HTTP response

function underlyingSocket(ws) {
  const s = socketOf.get(ws);
  if (s && typeof s.destroy === 'function') return s;
  try {
    if (responseKey === undefined) {
      responseKey = Object.getOwnPropertySymbols(ws).find((k) => k.description === 'response') ?? null;
    }
    const sock = responseKey ? ws[responseKey]?.socket : undefined;
    return sock && typeof sock.destroy === 'function' ? sock : undefined;
  } catch {
    return undefined;
  }
}

// drop ends a WebSocket at once, whatever its state, and silences it.
export function drop(ws) {
  ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
  const sock = underlyingSocket(ws);
  if (sock) {
    sock.destroy();
    return;
  }
  // No socket known (the TCP connection is not even up yet): abort the
  // upgrade request.
  try {
    ws.close();
  } catch {
    // already closed
  }
}

// dial makes one attempt: connect to url, send hello (text), and read the
// server's first frame, all within timeoutMs. done(answer) is called exactly
// once, never synchronously, unless the returned handle is cancelled first:
//
//   {ws, f}            welcome or resumed: the open connection, to adopt at once
//   {f}                any other frame (refused, …): the connection is dropped
//   {err}              refused, reset, closed or timed out before an answer
//   {err, rejected}    the server answered, but not with a valid frame
export function dial(url, hello, timeoutMs, done, { WebSocket: custom } = {}) {
  let ws = null;
  let finished = false;
  let timer = null;
  let tag = 0;
  const settle = (ans) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    awaiting.delete(tag);
    if (ws && !ans.ws) drop(ws);
    done(ans);
  };
  const fail = (err, rejected = false) => settle({ err, rejected });
  const handle = {
    cancel() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      awaiting.delete(tag);
      if (ws) drop(ws);
    },
  };
  tag = nextTag++;
  try {
    watchSockets();
    // headers is undici's extension of the WHATWG constructor.
    ws = new (webSocketClass(custom))(url, { headers: { [ATTEMPT_HEADER]: String(tag) } });
  } catch (e) {
    queueMicrotask(() => fail(transportError(`dial ${url}: ${e.message}`)));
    return handle;
  }
  // In time: undici starts the TCP connect inside the constructor, but the
  // headers go out (and the channel speaks) only once it is connected.
  awaiting.set(tag, ws);
  ws.binaryType = 'arraybuffer'; // a binary message is a protocol error, not a Blob to await
  timer = setTimeout(() => fail(transportError(`attempt on ${url} timed out after ${timeoutMs}ms`)), timeoutMs);
  ws.onopen = () => {
    try {
      ws.send(hello);
    } catch (e) {
      fail(transportError(`hello to ${url}: ${e.message}`));
    }
  };
  ws.onmessage = (ev) => {
    let f;
    try {
      f = decode(ev.data);
    } catch (e) {
      fail(protocolError(`answer from ${url}: ${e.message}`), true);
      return;
    }
    if (f.t !== T.WELCOME && f.t !== T.RESUMED) {
      settle({ f }); // refused (the server closes too) or nonsense
      return;
    }
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null; // the adopter installs its own, synchronously
    settle({ ws, f });
  };
  ws.onerror = (ev) => fail(transportError(`dial ${url}: ${ev?.message || ev?.error?.message || 'network error'}`));
  ws.onclose = (ev) => fail(transportError(`connection to ${url} closed (code ${ev.code}) before an answer`));
  return handle;
}

// discard releases an answer that will not be used.
export function discard(ans) {
  if (ans && ans.ws) drop(ans.ws);
}

// Conn is one established connection. onFrame(conn, frame) gets every frame;
// onLost(conn, err) is called once if the connection breaks (closed, reset,
// corrupt, or idle beyond idleMs), on a microtask so that a send failing in
// the middle of the session's own code never re-enters it. The session
// forgets a lost Conn, so late reports are ignored by identity.
export class Conn {
  #ws;
  #idle = null;
  #ended = false; // no more reports: lost, aborted or finishing
  #finished = null; // promise of the end of a finish() or abort()
  #resolveFinished = null;

  constructor(ws, url, { idleMs = 0, onFrame = () => {}, onLost = () => {} } = {}) {
    this.#ws = ws;
    this.url = url;
    this.idleMs = idleMs;
    this.onFrame = onFrame;
    this.onLost = onLost;
    this.#finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
    if (idleMs > 0) {
      this.#idle = setTimeout(
        () => this.#lost(codedError(Code.IDLE, `connection idle: nothing received from ${url} for ${idleMs}ms`)),
        idleMs,
      );
    }
    ws.onmessage = (ev) => this.#onMessage(ev);
    ws.onerror = (ev) => this.#lost(transportError(`connection to ${url}: ${ev?.message || ev?.error?.message || 'error'}`));
    ws.onclose = (ev) => this.#lost(transportError(`connection to ${url} closed (code ${ev.code}${ev.reason ? `, ${ev.reason}` : ''})`));
  }

  get ended() {
    return this.#ended;
  }

  #onMessage(ev) {
    if (this.#ended) return;
    this.#idle?.refresh(); // every frame counts as a sign of life
    let f;
    try {
      f = decode(ev.data);
    } catch (e) {
      // A corrupt stream cannot be trusted: treat it as a loss and recover.
      this.#lost(protocolError(`from ${this.url}: ${e.message}`));
      return;
    }
    this.onFrame(this, f);
  }

  #lost(err) {
    if (this.#ended) return;
    this.#end();
    drop(this.#ws);
    queueMicrotask(() => this.onLost(this, err));
  }

  #end() {
    this.#ended = true;
    clearTimeout(this.#idle);
    this.#idle = null;
  }

  send(frame) {
    if (this.#ended) return;
    try {
      this.#ws.send(encode(frame));
    } catch (e) {
      this.#lost(transportError(`write to ${this.url}: ${e.message}`));
    }
  }

  // abort drops the connection at once, reporting nothing.
  abort() {
    if (!this.#ended) this.#end();
    drop(this.#ws);
    this.#resolveFinished();
    return this.#finished;
  }

  // finish sends close{} after what is queued, then gives the server up to
  // graceMs to end the connection (it answers with the WebSocket close
  // handshake) before dropping it. The returned promise settles when the
  // connection is gone; it never rejects and never waits past graceMs.
  finish(graceMs = CLOSE_GRACE_MS) {
    if (this.#ended) return this.abort();
    this.#end();
    const ws = this.#ws;
    let grace = null;
    const done = () => {
      clearTimeout(grace);
      drop(ws);
      this.#resolveFinished();
    };
    ws.onmessage = null; // the session is over: frames in flight are of no use
    ws.onerror = null;
    ws.onclose = done;
    try {
      ws.send(encode({ t: T.CLOSE }));
    } catch {
      done();
      return this.#finished;
    }
    grace = setTimeout(done, graceMs);
    return this.#finished;
  }
}

// The transport under a session: one attempt (dial + WebSocket upgrade +
// hello + the server's answer, bounded by a timeout) and one established
// connection (frames in, frames out, a liveness bound, an abrupt or a
// graceful end). It uses the engine's own WebSocket client (websocket.js,
// over node:net), or a WHATWG-like class passed as the WebSocket option.
//
// Everything here reports by callback, synchronously from the socket's event
// handlers, never through promises: a promise continuation runs on a later
// microtask, and the next message (a replayed msg right behind `resumed`)
// may be dispatched before it, which would then find no handler and be lost.

import { decode, encode, T } from './wire.js';
import { Code, codedError, protocolError } from './states.js';
import { WebSocket as OwnWebSocket } from './websocket.js';

// How long a deliberate close waits for the server to end the connection
// after our close{} frame (the Go engine's closeGrace).
export const CLOSE_GRACE_MS = 1000;

function transportError(message) {
  return codedError(Code.TRANSPORT, message);
}

// drop ends a WebSocket at once, whatever its state, and silences it. A loss
// or a timed-out attempt must drop the connection at once and make no other,
// as the Go engine's CloseNow does: a closing handshake would wait on a
// blackholed peer until the link heals. Our client's terminate() destroys
// the TCP socket; a class without one gets close(), the best it offers.
export function drop(ws) {
  ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
  try {
    if (typeof ws.terminate === 'function') ws.terminate();
    else ws.close();
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
  const settle = (ans) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (ws && !ans.ws) drop(ws);
    done(ans);
  };
  const fail = (err, rejected = false) => settle({ err, rejected });
  const handle = {
    cancel() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (ws) drop(ws);
    },
  };
  try {
    ws = new (custom ?? OwnWebSocket)(url);
  } catch (e) {
    queueMicrotask(() => fail(transportError(`dial ${url}: ${e.message}`)));
    return handle;
  }
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

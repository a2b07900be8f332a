// Session is one client session over faultline's wire protocol: it detects
// connection loss, reconnects with a pluggable strategy inside one overall
// timeout, recovers the session without losing or duplicating messages in
// either direction, and moves across a list of servers by cascading and
// autofailover. Its semantics mirror the Go reference engine (client/ in the
// faultline tree, see its package doc); where this file says "as Go", the
// behaviour is deliberately the same so both SDKs are judged alike.
//
// States (Diffusion's): CONNECTING → CONNECTED_ACTIVE | CLOSED_*;
// CONNECTED_ACTIVE → RECOVERING_RECONNECT | CONNECTING (failover) | CLOSED_*;
// RECOVERING_RECONNECT → CONNECTED_ACTIVE | CONNECTING (failover) | CLOSED_*.
// A closed session never reopens.
//
// Concurrency: Node runs all of this on one thread, so the state machine
// needs no lock; what it needs instead is care about re-entrance. Socket
// events call in directly (see transport.js for why), strategy decisions and
// connection losses arrive on microtasks, and user callbacks are queued and
// run after the transition that caused them, in order, so a callback may
// call close() or send() without finding the session half-changed.
//
// Servers, cascading, autofailover, load balancing (Diffusion's), as Go:
//
//  - An attempt is one dial + upgrade + hello + answer, bounded by
//    connectTimeoutMs (and by the reconnection deadline while recovering).
//  - Cascading applies before a connection exists: open() tries servers[0];
//    with cascading on, a failed attempt (refused, reset, timed out, garbage)
//    is followed at once by one on the next server in list order, each server
//    once. An explicit refusal (access denied, bad hello) ends the cascade:
//    another server would answer the same. Load balancing never reorders it.
//  - Autofailover applies once a session was established: when it is lost
//    and cannot be kept, the session goes CONNECTING and walks the servers
//    after the lost one (wrapping round; shuffled with Fisher–Yates when load
//    balancing is on), then the lost one last; each once, no delay between.
//  - A failover opens a NEW session: nothing is carried over (new id, no
//    subscriptions, fresh numbering; unacknowledged sends are discarded and
//    reported through onError, never resent elsewhere).
//  - A walk that runs out of servers closes CLOSED_FAILED; the state change
//    and the CloseError list every server URL tried, in order.
//  - With reconnection and failover both on, recovery comes first, on the
//    lost server only; the failover happens once recovery is impossible
//    (timeout, abort, unknown_session, lost_messages): RECOVERING_RECONNECT →
//    CONNECTING with the reason why the session was given up.

import { Attempt } from './attempt.js';
import { SendBuffer } from './buffer.js';
import { resolveOptions } from './options.js';
import { AttemptError, CloseError, Code, Reason, State, codedError, isClosed, protocolError } from './states.js';
import { Conn, dial, discard } from './transport.js';
import { cascadeOrder, failoverOrder } from './walk.js';
import { T, WireReason, encode } from './wire.js';

const now = () => performance.now(); // monotonic: deadlines must not move with the wall clock

export class Session {
  #o;
  #strategy;
  #state = '';
  #id = '';
  #token = '';
  #pingMs = 0;
  #server;
  #cur = null; // the live Conn, null while not connected
  #last = new Map(); // last seq received per topic
  #acked = new Map(); // last seq acked to the server per topic
  #subs = new Set();
  #unsent = []; // subscriptions made while not connected
  #buf = new SendBuffer();
  #nextN = 1; // number of the next send

  #overall = null; // the one reconnection timer, from the first loss
  #deadline = 0; // when it fires (performance.now() ms), 0 when not recovering
  #pending = null; // attempt offered to the strategy, not started yet
  #inflight = null; // attempt started: its dial is running
  #walk = null; // the cascade or failover under way (state CONNECTING)

  #opened = false;
  #connected = false; // the first CONNECTED_ACTIVE happened
  #ready; // {promise, resolve, reject}: open()'s result
  #done; // {promise, resolve}: resolves with the CloseError once closed
  #err = null;
  #finishing = Promise.resolve(); // the end of the last connection we closed

  #callbacks = [];
  #draining = false;

  constructor(opts) {
    this.#o = resolveOptions(opts);
    this.#strategy = this.#o.strategy;
    this.#server = this.#o.servers[0];
    this.#ready = deferred();
    this.#ready.promise.catch(() => {}); // rejection is observed through open(); never unhandled
    this.#done = deferred();
  }

  get state() {
    return this.#state;
  }

  get id() {
    return this.#id;
  }

  get server() {
    return this.#server;
  }

  // err is null while the session is open, then the CloseError.
  get err() {
    return this.#err;
  }

  // done resolves (never rejects) with the CloseError once the session is
  // closed and its last connection has ended.
  get done() {
    return this.#done.promise;
  }

  // open starts the session on servers[0] (cascading down the list when on)
  // and resolves once it is CONNECTED_ACTIVE, or rejects with a CloseError
  // naming every server tried when the first connection fails. Calling it
  // again returns the same promise.
  open() {
    if (!this.#opened) {
      this.#opened = true;
      this.#setState(State.CONNECTING, '');
      this.#startWalk(false, cascadeOrder(this.#o.servers, this.#o.cascading));
    }
    return this.#ready.promise;
  }

  // subscribe subscribes to topic. Subscriptions are remembered: one made
  // while not connected is sent once connected; a resumed session keeps
  // those the server already has, so they are not sent again. Twice is a no-op.
  subscribe(topic) {
    if (typeof topic !== 'string' || topic === '') throw new TypeError('empty topic');
    this.#assertOpen();
    if (this.#subs.has(topic)) return;
    this.#subs.add(topic);
    if (this.#cur) this.#cur.send({ t: T.SUB, topic });
    else this.#unsent.push(topic);
  }

  // send sends payload (any JSON value) as the next numbered send. It is
  // kept in the recovery buffer until acked, and queued while recovering.
  send(payload = null) {
    this.#assertOpen();
    if (payload === undefined) payload = null;
    if (this.#buf.length >= this.#o.recoveryBuffer) {
      throw codedError(Code.BUFFER_FULL, `recovery buffer full (${this.#o.recoveryBuffer} unacknowledged sends)`);
    }
    const n = this.#nextN++;
    this.#buf.add(n, payload);
    if (this.#cur) this.#cur.send({ t: T.SEND, n, data: payload });
  }

  // close closes the session deliberately: close{} to the server,
  // CLOSED_BY_CLIENT, no reconnection, no failover. It resolves once the
  // connection has ended (bounded by the close grace). Closing a closed
  // session resolves at once.
  close() {
    if (!isClosed(this.#state)) {
      if (!this.#opened) {
        this.#opened = true;
        this.#ready.reject(new CloseError({ state: State.CLOSED_BY_CLIENT, reason: Reason.CLOSED_BY_CLIENT, server: this.#server }));
      }
      this.#closeWith(State.CLOSED_BY_CLIENT, Reason.CLOSED_BY_CLIENT, null, true);
    }
    return this.#finishing.then(() => {});
  }

  #assertOpen() {
    if (isClosed(this.#state)) throw codedError(Code.CLOSED, 'session closed', this.#err ?? undefined);
  }

  // ---- attempts ----------------------------------------------------------

  // #launch runs attempt a on this.#server: bounded by the connect timeout
  // and, while recovering, by the overall reconnection deadline.
  #launch(a) {
    let timeout = this.#o.connectTimeoutMs;
    if (this.#deadline) timeout = Math.max(0, Math.min(timeout, this.#deadline - now()));
    this.#inflight = a;
    const url = this.#server;
    const hello = encode(this.#hello());
    let h = null;
    let cancelled = false;
    a.cancel = () => {
      cancelled = true;
      h?.cancel();
    };
    // Dial on a microtask queued after the callbacks of the transition that
    // led here: the WebSocket constructor starts the TCP connection at once,
    // and the state change (the CONNECTING of a cascade or failover) must be
    // reported before any server can see the attempt it announces.
    queueMicrotask(() => {
      if (cancelled) return;
      h = dial(url, hello, timeout, (ans) => this.#onDialed(a, ans), { WebSocket: this.#o.WebSocket });
    });
  }

  #hello() {
    const h = {
      t: T.HELLO,
      principal: this.#o.principal,
      credentials: this.#o.credentials,
      retention_ms: Math.round(this.#o.retentionMs),
      no_reconnect: !this.#o.reconnect,
    };
    if (this.#id) {
      h.session = this.#id;
      h.token = this.#token;
      if (this.#last.size > 0) h.last = Object.fromEntries(this.#last);
    }
    return h;
  }

  #onDialed(a, ans) {
    if (a !== this.#inflight || isClosed(this.#state)) {
      discard(ans);
      return;
    }
    this.#inflight = null;
    if (this.#state === State.CONNECTING) this.#onWalkAnswer(ans);
    else this.#onResumeAnswer(ans);
  }

  // #adopt takes over an answered connection.
  #adopt(ws) {
    const idleMs = this.#o.livenessMs || 2 * this.#pingMs;
    return new Conn(ws, this.#server, {
      idleMs,
      onFrame: (c, f) => {
        if (c === this.#cur && !isClosed(this.#state)) this.#onFrame(f);
      },
      onLost: (c, err) => {
        if (c === this.#cur && !isClosed(this.#state)) this.#onLost(err);
      },
    });
  }

  // #dispose closes a connection that answered but is of no use, so the
  // server does not keep a session for it.
  #dispose(ws) {
    const c = new Conn(ws, this.#server);
    this.#trackFinish(c.finish());
  }

  #trackFinish(p) {
    const prev = this.#finishing;
    this.#finishing = Promise.all([prev, p]);
  }

  // ---- frames --------------------------------------------------------------

  #onFrame(f) {
    switch (f.t) {
      case T.PING:
        this.#cur.send({ t: T.PONG });
        this.#ackMessages();
        break;
      case T.MSG:
        this.#onMsg(f);
        break;
      case T.ACK:
        this.#buf.ackThrough(f.n ?? 0);
        break;
      case T.CLOSED:
        this.#closeWith(State.CLOSED_BY_SERVER, Reason.CLOSED_BY_SERVER, null, false);
        break;
      case T.REFUSED:
        this.#closeWith(State.CLOSED_FAILED, refusal(f.reason), refusedError(this.#server, f.reason), false);
        break;
      default:
        this.#report(protocolError(`unexpected ${f.t} frame from ${this.#server}`));
    }
  }

  // #onMsg delivers each seq of a topic once and in order. The first message
  // of a topic sets its baseline (a subscription may start mid-stream).
  #onMsg(f) {
    const seq = f.seq ?? 0;
    const seen = this.#last.has(f.topic);
    const last = this.#last.get(f.topic);
    if (seq === 0) {
      this.#report(protocolError(`msg on ${JSON.stringify(f.topic)} without seq from ${this.#server}`));
      return;
    }
    if (seen && seq <= last) return; // a replayed duplicate
    if (seen && seq !== last + 1) {
      // Never a silent loss: a hole closes the session (R3).
      this.#closeWith(State.CLOSED_FAILED, Reason.LOST_MESSAGES,
        protocolError(`gap on ${JSON.stringify(f.topic)}: seq ${seq} after ${last}`), true);
      return;
    }
    this.#last.set(f.topic, seq);
    const cb = this.#o.onMessage;
    if (cb) this.#dispatch(() => cb(f.topic, seq, f.data));
  }

  // #ackMessages tells the server, once per ping, how far each topic got, so
  // it can trim its recovery buffer without a frame per message.
  #ackMessages() {
    for (const [topic, seq] of this.#last) {
      if ((this.#acked.get(topic) ?? 0) < seq) {
        this.#acked.set(topic, seq);
        this.#cur.send({ t: T.ACK, topic, seq });
      }
    }
  }

  // ---- loss and recovery ------------------------------------------------------

  #onLost(cause) {
    this.#cur.abort();
    this.#cur = null;
    this.#report(cause);
    if (!this.#o.reconnect) {
      // R7: opted out, so no attempt at all (a failover is a new session, not one).
      this.#giveUp(Reason.CONNECTION_LOST, cause);
      return;
    }
    this.#setState(State.RECOVERING_RECONNECT, '');
    // R5: one overall timer from the first loss, not one per attempt.
    const timeout = this.#o.reconnectTimeoutMs;
    this.#deadline = now() + timeout;
    this.#overall = setTimeout(() => {
      this.#overall = null;
      if (this.#state === State.RECOVERING_RECONNECT) {
        this.#giveUp(Reason.RECONNECT_TIMEOUT, codedError(Code.TIMEOUT, `reconnection timed out after ${timeout}ms`));
      }
    }, timeout);
    this.#offer();
  }

  // #offer asks the strategy for the next attempt.
  #offer() {
    const a = new Attempt((kind, att) => (kind === 'start' ? this.#onStart(att) : this.#onAbort(att)));
    this.#pending = a;
    try {
      this.#strategy.performReconnection(a);
    } catch (e) {
      // A strategy that throws cannot schedule anything: as if it aborted.
      this.#report(e);
      if (this.#pending === a) this.#giveUp(Reason.RECONNECT_ABORTED, e);
    }
  }

  #onStart(a) {
    if (this.#state !== State.RECOVERING_RECONNECT || a !== this.#pending) return; // late or stale
    this.#pending = null;
    if (now() >= this.#deadline) { // the timer is due but has not run yet
      this.#giveUp(Reason.RECONNECT_TIMEOUT, codedError(Code.TIMEOUT, 'reconnection timed out'));
      return;
    }
    this.#launch(a);
  }

  #onAbort(a) {
    if (this.#state === State.RECOVERING_RECONNECT && a === this.#pending) {
      this.#giveUp(Reason.RECONNECT_ABORTED, codedError(Code.ABORTED, 'reconnection aborted by the strategy'));
    }
  }

  // #stopRecovery ends the overall timer and voids any attempt (clearing
  // the strategy's timer and cancelling a running dial).
  #stopRecovery() {
    clearTimeout(this.#overall);
    this.#overall = null;
    this.#deadline = 0;
    for (const a of [this.#pending, this.#inflight]) a?.kill();
    this.#pending = null;
    this.#inflight = null;
  }

  #onResumeAnswer(ans) {
    const f = ans.f;
    if (ans.rejected) {
      this.#closeWith(State.CLOSED_FAILED, Reason.HANDSHAKE, ans.err, false);
    } else if (ans.err) { // transport: try again, as the strategy says
      this.#report(ans.err);
      this.#offer();
    } else if (f.t === T.REFUSED && (f.reason === WireReason.UNKNOWN_SESSION || f.reason === WireReason.LOST_MESSAGES)) {
      // The session is gone, or cannot be resumed without a hole: fail over
      // when on, else close (R3, R6) instead of looping.
      this.#giveUp(f.reason, refusedError(this.#server, f.reason));
    } else if (f.t === T.REFUSED) {
      this.#closeWith(State.CLOSED_FAILED, refusal(f.reason), refusedError(this.#server, f.reason), false);
    } else if (f.t === T.WELCOME) {
      // The server made a new session: ours is gone. Close the new one so
      // the server does not retain it.
      this.#dispose(ans.ws);
      this.#giveUp(Reason.UNKNOWN_SESSION, protocolError(`welcome ${f.session} instead of resumed ${this.#id}`));
    } else if (f.session !== this.#id) {
      this.#dispose(ans.ws);
      this.#closeWith(State.CLOSED_FAILED, Reason.HANDSHAKE, protocolError(`resumed ${f.session}, asked for ${this.#id}`), false);
    } else {
      this.#resume(ans);
    }
  }

  // #resume returns to CONNECTED_ACTIVE and resends what the server did not
  // get, from its received + 1, exactly once (R3).
  #resume(ans) {
    const received = ans.f.received ?? 0;
    const sent = this.#nextN - 1;
    if (ans.f.ping_ms > 0) this.#pingMs = ans.f.ping_ms;
    this.#stopRecovery();
    this.#cur = this.#adopt(ans.ws);
    if (received > sent) {
      this.#closeWith(State.CLOSED_FAILED, Reason.HANDSHAKE, protocolError(`server received ${received} of ${sent} sends`), true);
      return;
    }
    this.#buf.ackThrough(received);
    const first = this.#buf.first();
    if (received < sent && first !== received + 1) {
      this.#closeWith(State.CLOSED_FAILED, Reason.LOST_MESSAGES,
        protocolError(`server received up to ${received}, recovery buffer starts at ${first}`), true);
      return;
    }
    this.#setState(State.CONNECTED_ACTIVE, '');
    this.#flush();
    this.#strategy.reset?.(); // R9: the next loss starts the schedule from its first delay
  }

  // #flush sends what waited for a connection: unacknowledged sends, in n
  // order, then subscriptions made meanwhile.
  #flush() {
    for (const p of this.#buf.all()) this.#cur.send({ t: T.SEND, n: p.n, data: p.payload });
    for (const topic of this.#unsent) this.#cur.send({ t: T.SUB, topic });
    this.#unsent = [];
  }

  // ---- walks: cascade and failover --------------------------------------------

  #startWalk(failover, order) {
    this.#walk = { failover, order, tried: [], reason: Reason.CONNECTION_ERROR, cause: null };
    this.#tryNext();
  }

  // #tryNext launches the walk's next attempt, or closes the session when
  // the list is exhausted: CLOSED_FAILED naming every server tried (C2).
  #tryNext() {
    const w = this.#walk;
    if (w.order.length === 0) {
      this.#closeWith(State.CLOSED_FAILED, w.reason, w.cause, false);
      return;
    }
    this.#server = w.order.shift();
    w.tried.push(this.#server);
    this.#launch(new Attempt(() => {})); // not the strategy's: nothing to start or abort
  }

  #onWalkAnswer(ans) {
    const w = this.#walk;
    const f = ans.f;
    if (ans.err) { // refused, reset, timed out, or garbage: the next server
      w.cause = ans.err;
      w.reason = ans.rejected ? Reason.HANDSHAKE : Reason.CONNECTION_ERROR;
      this.#report(new AttemptError(this.#server, ans.err));
      this.#tryNext();
    } else if (f.t === T.WELCOME) {
      this.#welcome(ans);
    } else if (f.t === T.REFUSED) {
      // The server answered: a refusal (access denied, bad hello) would be
      // the same anywhere, so the walk ends here.
      this.#closeWith(State.CLOSED_FAILED, refusal(f.reason), refusedError(this.#server, f.reason), false);
    } else {
      discard(ans);
      const err = protocolError(`${f.t} answer to a new hello from ${this.#server}`);
      w.cause = err;
      w.reason = Reason.HANDSHAKE;
      this.#report(new AttemptError(this.#server, err));
      this.#tryNext();
    }
  }

  // #welcome adopts a new session: CONNECTED_ACTIVE on this.#server. What was
  // sent or subscribed while the walk ran goes out now.
  #welcome(ans) {
    const f = ans.f;
    this.#walk = null;
    this.#id = f.session;
    this.#token = f.token ?? '';
    this.#pingMs = f.ping_ms ?? 0;
    this.#cur = this.#adopt(ans.ws);
    this.#setState(State.CONNECTED_ACTIVE, '');
    this.#flush();
    if (!this.#connected) {
      this.#connected = true;
      const resolve = this.#ready.resolve;
      this.#dispatch(() => resolve()); // after the CONNECTED_ACTIVE callback, in order
    } else {
      this.#strategy.reset?.(); // a new session starts the reconnection schedule afresh
    }
  }

  // #giveUp ends a session that could not be kept: a failover when
  // autofailover is on, else CLOSED_FAILED.
  #giveUp(reason, cause) {
    if (this.#o.failover) this.#failover(reason, cause);
    else this.#closeWith(State.CLOSED_FAILED, reason, cause, false);
  }

  // #failover gives up the current session and walks the list for a new one
  // (F1, F2). Nothing is carried over (Diffusion's failover docs: the new
  // server has no knowledge of the client).
  #failover(reason, cause) {
    const lost = this.#server;
    this.#stopRecovery();
    if (this.#cur) {
      this.#cur.abort();
      this.#cur = null;
    }
    this.#setState(State.CONNECTING, reason); // names the lost server and session
    if (this.#buf.length > 0) {
      this.#report(codedError(Code.DISCARDED,
        `unacknowledged sends discarded by failover: ${this.#buf.length} send(s) unacknowledged by ${lost}`, cause ?? undefined));
    }
    this.#id = '';
    this.#token = '';
    this.#pingMs = 0;
    this.#last = new Map();
    this.#acked = new Map();
    this.#subs = new Set();
    this.#unsent = [];
    this.#buf = new SendBuffer();
    this.#nextN = 1;
    this.#startWalk(true, failoverOrder(this.#o.servers, lost, this.#o.loadBalancing, this.#o.random));
  }

  // ---- closing ------------------------------------------------------------------

  // #closeWith ends the session; graceful sends close{} on the live
  // connection so the server drops the session instead of retaining it.
  // Every timer of the session is cleared here, so nothing keeps the process.
  #closeWith(to, reason, cause, graceful) {
    this.#stopRecovery();
    if (this.#cur) {
      this.#trackFinish(graceful ? this.#cur.finish() : this.#cur.abort());
      this.#cur = null;
    }
    const tried = this.#walk ? [...this.#walk.tried] : undefined;
    const err = new CloseError({ state: to, reason, server: this.#server, session: this.#id, tried, cause });
    this.#err = err;
    this.#setState(to, reason);
    this.#walk = null;
    if (!this.#connected) {
      const reject = this.#ready.reject;
      this.#dispatch(() => reject(err));
    }
    const resolveDone = this.#done.resolve;
    this.#finishing.then(() => resolveDone(err));
  }

  // #setState records a transition; reason is for CLOSED_* and for the
  // CONNECTING of a failover ('' otherwise). A change into CLOSED_* during a
  // walk lists the servers tried.
  #setState(to, reason) {
    const change = { from: this.#state, to, server: this.#server, session: this.#id, reason };
    if (isClosed(to) && this.#walk) change.tried = [...this.#walk.tried];
    this.#state = to;
    const cb = this.#o.onState;
    if (cb) this.#dispatch(() => cb(change));
  }

  #report(err) {
    const cb = this.#o.onError;
    if (cb) this.#dispatch(() => cb(err));
  }

  // #dispatch queues f to run after the current transition, in order. User
  // callbacks never run inside the state machine, and one that throws does
  // not stop the others.
  #dispatch(f) {
    this.#callbacks.push(f);
    if (this.#draining) return;
    this.#draining = true;
    queueMicrotask(() => {
      while (this.#callbacks.length > 0) {
        const g = this.#callbacks.shift();
        try {
          g();
        } catch (e) {
          console.error('faultline-node: callback failed:', e);
        }
      }
      this.#draining = false;
    });
  }
}

// connect opens a session and resolves with it once CONNECTED_ACTIVE, or
// rejects with the CloseError of the first connection's failure.
export async function connect(opts) {
  const s = new Session(opts);
  await s.open();
  return s;
}

// refusal maps a server's refusal reason to a close reason.
function refusal(reason) {
  switch (reason) {
    case WireReason.ACCESS_DENIED:
    case WireReason.UNKNOWN_SESSION:
    case WireReason.LOST_MESSAGES:
    case WireReason.BAD_HANDSHAKE:
      return reason;
  }
  return Reason.HANDSHAKE;
}

function refusedError(server, reason) {
  return codedError(Code.REFUSED, `refused by ${server}: ${reason}`);
}

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// A scriptable fake session server: just enough of faultline's wire protocol
// to drive the engine through every path (the Node twin of the Go engine's
// client/fake_test.go). Every upgrade is counted as a dial, the way the real
// fake server counts accepts, so tests can judge attempts from the server's
// side.

import { startWsServer } from './wsserver.js';

// answer(i, hello) scripts the reply to the i-th hello (0-based):
//   {kind: 'welcome', session?, ping_ms?}
//   {kind: 'resumed', received?: n (default: what this fake received), replay?: [frames]}
//   {kind: 'refused', reason}
//   {kind: 'hangup'}        close without an answer
//   {kind: 'silent'}        never answer
//   {kind: 'garbage'}       a frame that is not JSON
export async function startFake({ pingMs = 0, session = 'sess-1', token = 'tok-1', answer, ack = true } = {}) {
  const f = {
    url: '',
    dials: [], // performance.now() of every upgrade request, held ones included
    hellos: [],
    received: [], // every send n, duplicates included
    lastN: 0,
    subs: [],
    acks: [],
    closes: 0, // close{} frames received
    peers: [],
    live: null, // the peer of the current session
    holdHandshake: false, // leave upgrades unanswered (a blackholed link)
    resetHandshake: false, // destroy the socket at the upgrade (a reset link)
    answer: answer ?? (() => ({ kind: 'welcome' })),
    waiters: [],
  };
  let hellos = 0;
  const notify = () => {
    for (const w of [...f.waiters]) {
      if (w.cond()) {
        f.waiters.splice(f.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  // until resolves once cond() holds, or rejects after ms.
  f.until = (cond, ms = 3000, what = 'condition') => {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        f.waiters.splice(f.waiters.indexOf(w), 1);
        reject(new Error(`fake: ${what} not reached within ${ms}ms`));
      }, ms);
      const w = { cond, resolve: () => { clearTimeout(t); resolve(); } };
      f.waiters.push(w);
    });
  };

  const startPings = (peer) => {
    if (!pingMs) return;
    const t = setInterval(() => {
      if (peer.closed) clearInterval(t);
      else peer.send({ t: 'ping' });
    }, pingMs);
    peer.pinger = t;
  };

  const srv = await startWsServer({
    onUpgrade: (req, sock) => {
      f.dials.push(performance.now());
      notify();
      if (f.resetHandshake) {
        sock.destroy();
        return false;
      }
      return !f.holdHandshake;
    },
    onConnection: (peer) => {
      f.peers.push(peer);
      let greeted = false;
      peer.onClose = () => {
        clearInterval(peer.pinger);
        notify();
      };
      peer.onText = (text) => {
        const m = JSON.parse(text);
        if (!greeted) {
          greeted = true;
          f.hellos.push(m);
          const a = f.answer(hellos++, m) ?? { kind: 'welcome' };
          switch (a.kind) {
            case 'welcome':
              f.live = peer;
              peer.send({ t: 'welcome', session: a.session ?? session, token, ping_ms: a.ping_ms ?? pingMs, retention_ms: m.retention_ms });
              startPings(peer);
              break;
            case 'resumed': {
              f.live = peer;
              const received = a.received ?? f.lastN;
              peer.send({ t: 'resumed', session: a.session ?? m.session, received, ping_ms: a.ping_ms ?? pingMs });
              for (const fr of a.replay ?? []) peer.send(fr);
              startPings(peer);
              break;
            }
            case 'refused':
              peer.send({ t: 'refused', reason: a.reason });
              peer.close();
              break;
            case 'hangup':
              peer.destroy();
              break;
            case 'garbage':
              peer.sendText('this is not json');
              break;
            case 'silent':
              break;
          }
          notify();
          return;
        }
        switch (m.t) {
          case 'send':
            f.received.push(m.n);
            if (m.n > f.lastN) f.lastN = m.n;
            if (ack) peer.send({ t: 'ack', n: f.lastN });
            break;
          case 'sub':
            f.subs.push(m.topic);
            break;
          case 'ack':
            f.acks.push(m);
            break;
          case 'close':
            f.closes++;
            peer.close();
            break;
        }
        notify();
      };
    },
  });
  f.url = srv.url;
  f.port = srv.port;
  f.stop = () => {
    for (const p of f.peers) clearInterval(p.pinger);
    return srv.stop();
  };
  // The faults, on the live connection.
  f.reset = () => f.live?.destroy();
  f.blackhole = () => {
    if (f.live) {
      f.live.hole = true;
      clearInterval(f.live.pinger);
    }
  };
  f.publish = (topic, seq, data = null) => f.live?.send({ t: 'msg', topic, seq, data });
  f.closeSession = () => {
    f.live?.send({ t: 'closed', reason: 'closed_by_server' });
    f.live?.close();
  };
  return f;
}

// recorder collects a session's callbacks for assertions.
export function recorder() {
  const r = { states: [], messages: [], errors: [], waiters: [] };
  const notify = () => {
    for (const w of [...r.waiters]) {
      if (w.cond()) {
        r.waiters.splice(r.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  r.onState = (c) => {
    r.states.push(c);
    notify();
  };
  r.onMessage = (topic, seq) => {
    r.messages.push({ topic, seq });
    notify();
  };
  r.onError = (e) => {
    r.errors.push(e);
    notify();
  };
  r.path = () => r.states.map((c) => c.to);
  r.until = (cond, ms = 3000, what = 'condition') => {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        r.waiters.splice(r.waiters.indexOf(w), 1);
        reject(new Error(`${what} not reached within ${ms}ms; states: ${r.path().join(' → ')}`));
      }, ms);
      const w = { cond, resolve: () => { clearTimeout(t); resolve(); } };
      r.waiters.push(w);
    });
  };
  r.untilState = (to, ms) => r.until(() => r.states.some((c) => c.to === to), ms, to);
  return r;
}

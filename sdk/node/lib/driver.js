// The driver protocol (docs/driver-protocol.md, types in
// harness/driver/driver.go) over a pair of streams: newline-delimited JSON,
// ops in, replies and events out. driver.js runs it on stdin/stdout; tests
// run it on in-memory streams.
//
// One driver process hosts many sessions, one per client (the "sessions"
// extension, harness/driver/sessions.go): its hello declares how many, every
// op of the harness names its client ("client": k), and every event of that
// client's session carries "client": k. An op without "client" goes to one
// default session whose events carry none, which is exactly the one-session
// driver of the fixed protocol. Ops are handled as they arrive: a connect
// is answered when the first connection succeeded or failed, and ops that
// arrive meanwhile (close, say) are handled at once, so their replies may
// come first; every reply names its op by id.

import { readFileSync } from 'node:fs';
import readline from 'node:readline';

import { fromDriverOptions } from './options.js';
import { Session } from './session.js';
import { isClosed } from './states.js';
import { seededRandom } from './walk.js';

export const SDK = 'faultline-node';
export const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

// What this engine implements. Migration and routing are left out on
// purpose, so the harness reports their requirements UNIMPLEMENTED.
export const FEATURES = Object.freeze(['reconnect', 'failover', 'load_balancing', 'cascading']);

// Bound on the sessions' close when the driver is told to exit (or its
// input ends): each session's own close is bounded by the close grace (1s),
// and they close together.
const EXIT_CLOSE_BOUND_MS = 2000;

// How many sessions one process hosts by default: more than any scenario's
// clients, so that a run needs one Node process, not one per client (a
// thousand Node processes froze this 2-core machine). 1 is the one-session
// driver (no "sessions" in the hello).
export const SESSIONS = 4096;

// randomFromEnv makes shuffles and jitter reproducible from the run: the
// harness passes FAULTLINE_SEED (the run's seed) and FAULTLINE_DRIVER (this
// driver's number) to every driver it starts. Without them: Math.random.
export function randomFromEnv(env = process.env) {
  return randomFor(env.FAULTLINE_SEED, env.FAULTLINE_DRIVER);
}

// randomFor is a client's stream from the run's seed and its driver number:
// the same whether they came from the environment of a one-session process
// or from a connect op's "seed" and "driver" in a multi-session one.
export function randomFor(seed, driver) {
  if (seed === undefined || seed === null || seed === '') return undefined;
  // FNV-1a over "seed/driver": each driver of a run gets its own stream.
  let h = 0x811c9dc5;
  for (const ch of `${seed}/${driver ?? ''}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return seededRandom(h);
}

export function hello(sessions = SESSIONS) {
  // No "type" key: the harness tells the hello from events by its absence.
  const h = { sdk: SDK, version: VERSION, features: [...FEATURES] };
  if (sessions > 1) h.sessions = sessions;
  return h;
}

// runDriver speaks the protocol on input/output until an exit op or the end
// of input, then closes every session (bounded) and calls exit(0). random is
// the default session's stream; a client's session draws its own from its
// connect op's seed and driver.
export function runDriver({ input, output, exit, random, WebSocket, sessions = SESSIONS } = {}) {
  // client (or DEFAULT) → { session, random }; a client's entry stays after
  // its session closed, so a late op gets "not connected"-style answers.
  const DEFAULT = 'default';
  const slots = new Map();
  let exiting = false;

  const write = (obj) => {
    try {
      output.write(JSON.stringify(obj) + '\n');
    } catch {
      // the harness is gone: nothing to tell it; input will end too
    }
  };

  const event = (type, fields, client) => {
    const e = { type };
    if (client !== DEFAULT && client !== undefined) e.client = client;
    for (const [k, v] of Object.entries(fields)) {
      // Leave out empty fields, as the Go side's omitempty does.
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
      e[k] = v;
    }
    write(e);
  };

  const shutdown = async () => {
    if (exiting) return;
    exiting = true;
    const open = [...slots.values()].filter((s) => s.session && !isClosed(s.session.state));
    if (open.length > 0) {
      let timer;
      await Promise.race([
        Promise.allSettled(open.map((s) => s.session.close())),
        new Promise((resolve) => {
          timer = setTimeout(resolve, EXIT_CLOSE_BOUND_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    exit(0);
  };

  // slotFor is the op's session slot, made on its first op. A client's
  // stream is drawn at its first connect, from what the op says.
  const slotFor = (op) => {
    let key = DEFAULT;
    if (op.client !== undefined) {
      if (!Number.isSafeInteger(op.client) || op.client < 0) throw new Error(`bad client ${JSON.stringify(op.client)}: want an index ≥ 0`);
      key = op.client;
    }
    let s = slots.get(key);
    if (!s) {
      if (slots.size >= sessions + 1) throw new Error(`this process hosts ${sessions} sessions already`);
      s = { key, session: null, random: key === DEFAULT ? random : undefined, drew: key === DEFAULT };
      slots.set(key, s);
    }
    if (!s.drew && op.op === 'connect') {
      s.random = randomFor(op.seed ?? process.env.FAULTLINE_SEED, op.driver ?? process.env.FAULTLINE_DRIVER);
      s.drew = true;
    }
    return s;
  };

  const handle = async (op) => {
    const id = op.id;
    const reply = (err) => {
      if (err) write({ re: id, ok: false, error: String(err?.message ?? err) });
      else write({ re: id, ok: true });
    };
    if (exiting) {
      reply(new Error('driver is exiting'));
      return;
    }
    try {
      if (op.op === 'exit') {
        reply(null);
        await shutdown();
        return;
      }
      const slot = slotFor(op);
      switch (op.op) {
        case 'connect': {
          if (slot.session && !isClosed(slot.session.state)) throw new Error('already connected');
          if (!Array.isArray(op.servers) || op.servers.length === 0) throw new Error('connect: no servers');
          const opts = fromDriverOptions(op.servers, op.options ?? {}, { random: slot.random });
          const k = slot.key;
          slot.session = new Session({
            ...opts,
            WebSocket,
            onState: (c) => event('state', { from: c.from, to: c.to, server: c.server, session: c.session, reason: c.reason, tried: c.tried }, k),
            onMessage: (topic, seq) => event('message', { topic, seq }, k),
            onError: (err) => event('error', { text: String(err?.message ?? err) }, k),
          });
          await slot.session.open();
          break;
        }
        case 'subscribe':
          need(slot.session).subscribe(op.topic);
          break;
        case 'send':
          need(slot.session).send(op.payload === undefined ? null : op.payload);
          break;
        case 'close':
          await need(slot.session).close();
          break;
        case 'request':
        case 'cancel':
          throw new Error(`${op.op}: not implemented by ${SDK} (no migration, no routing)`);
        default:
          throw new Error(`unknown op ${JSON.stringify(op.op)}`);
      }
      reply(null);
    } catch (err) {
      reply(err);
    }
  };

  write(hello(sessions));

  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    let op;
    try {
      op = JSON.parse(line);
    } catch (e) {
      event('error', { text: `bad op line: ${e.message}` });
      return;
    }
    if (op === null || typeof op !== 'object' || Array.isArray(op)) {
      event('error', { text: 'bad op line: not a JSON object' });
      return;
    }
    if (!Number.isSafeInteger(op.id)) {
      // Nothing to reply to: a reply needs the op's id.
      event('error', { text: `op without an integer id: ${line.slice(0, 200)}` }, Number.isSafeInteger(op.client) ? op.client : undefined);
      return;
    }
    handle(op);
  });
  // The end of input means the harness is gone or done: close and exit.
  rl.on('close', () => {
    shutdown();
  });
  return { shutdown };
}

function need(session) {
  if (!session) throw new Error('not connected');
  return session;
}

// The driver protocol (DESIGN.md "Driver protocol (fixed)", types in
// harness/driver/driver.go) over a pair of streams: newline-delimited JSON,
// ops in, replies and events out. driver.js runs it on stdin/stdout; tests
// run it on in-memory streams.
//
// One driver drives one session. Ops are handled as they arrive: a connect
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

// Bound on the session's close when the driver is told to exit (or its
// input ends): the session's own close is bounded by the close grace (1s).
const EXIT_CLOSE_BOUND_MS = 2000;

// randomFromEnv makes shuffles and jitter reproducible from the run: the
// harness passes FAULTLINE_SEED (the run's seed) and FAULTLINE_DRIVER (this
// driver's number) to every driver it starts. Without them: Math.random.
export function randomFromEnv(env = process.env) {
  if (env.FAULTLINE_SEED === undefined || env.FAULTLINE_SEED === '') return undefined;
  // FNV-1a over "seed/driver": each driver of a run gets its own stream.
  let h = 0x811c9dc5;
  for (const ch of `${env.FAULTLINE_SEED}/${env.FAULTLINE_DRIVER ?? ''}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return seededRandom(h);
}

export function hello() {
  // No "type" key: the harness tells the hello from events by its absence.
  return { sdk: SDK, version: VERSION, features: [...FEATURES] };
}

// runDriver speaks the protocol on input/output until an exit op or the end
// of input, then closes the session (bounded) and calls exit(0).
export function runDriver({ input, output, exit, random, WebSocket } = {}) {
  let session = null;
  let exiting = false;

  const write = (obj) => {
    try {
      output.write(JSON.stringify(obj) + '\n');
    } catch {
      // the harness is gone: nothing to tell it; input will end too
    }
  };

  const event = (type, fields) => {
    const e = { type };
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
    if (session && !isClosed(session.state)) {
      let timer;
      await Promise.race([
        session.close(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, EXIT_CLOSE_BOUND_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    exit(0);
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
      switch (op.op) {
        case 'connect': {
          if (session && !isClosed(session.state)) throw new Error('already connected');
          if (!Array.isArray(op.servers) || op.servers.length === 0) throw new Error('connect: no servers');
          const opts = fromDriverOptions(op.servers, op.options ?? {}, { random });
          session = new Session({
            ...opts,
            WebSocket,
            onState: (c) => event('state', { from: c.from, to: c.to, server: c.server, session: c.session, reason: c.reason, tried: c.tried }),
            onMessage: (topic, seq) => event('message', { topic, seq }),
            onError: (err) => event('error', { text: String(err?.message ?? err) }),
          });
          await session.open();
          break;
        }
        case 'subscribe':
          need(session).subscribe(op.topic);
          break;
        case 'send':
          need(session).send(op.payload === undefined ? null : op.payload);
          break;
        case 'close':
          await need(session).close();
          break;
        case 'exit':
          reply(null);
          await shutdown();
          return;
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

  write(hello());

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
      event('error', { text: `op without an integer id: ${line.slice(0, 200)}` });
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

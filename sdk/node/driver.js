#!/usr/bin/env node
// faultline-node's driver: the engine in lib/ behind the driver protocol on
// stdin/stdout (newline-delimited JSON; stderr is free for logs).
//
//   faultline run --sdk "node sdk/node/driver.js" --scenarios scenarios/reconnect
//   node sdk/node/driver.js --sessions 1     one session per process, as before
//
// One process hosts every client of a scenario (its hello declares
// sessions: 4096 by default), so 1,000 clients cost one Node process, not
// a thousand. The engine brings its own WebSocket client
// (lib/websocket.js): no flag and no second Node process on Node 20.

import { runDriver, randomFromEnv, SESSIONS } from './lib/driver.js';
import { warmUp } from './lib/warmup.js';

// --sessions N (N ≥ 1): how many sessions this process hosts.
function sessionsArg(argv) {
  const i = argv.indexOf('--sessions');
  if (i < 0) return SESSIONS;
  const n = Number(argv[i + 1]);
  if (!Number.isSafeInteger(n) || n < 1) {
    process.stderr.write(`usage: driver.js [--sessions N]  (N an integer ≥ 1, default ${SESSIONS})\n`);
    process.exit(2);
  }
  return n;
}
const sessions = sessionsArg(process.argv.slice(2));

// Before the hello: the harness starts a scenario's timeline once its
// drivers said hello, so the cold start stays out of every measurement.
await warmUp();
process.stdout.on('error', () => process.exit(0)); // EPIPE: the harness is gone
runDriver({ input: process.stdin, output: process.stdout, exit: (code) => process.exit(code), random: randomFromEnv(), sessions });

#!/usr/bin/env node
// faultline-node's driver: the engine in lib/ behind the driver protocol on
// stdin/stdout (newline-delimited JSON; stderr is free for logs).
//
//   faultline run --sdk "node sdk/node/driver.js" --scenarios scenarios/reconnect
//
// Node 20 has its WebSocket client only behind --experimental-websocket.
// When the global is missing, this script runs itself again with the flag,
// passing stdio straight through, so the plain `node driver.js` works. The
// re-run costs a second (small) process; `node --experimental-websocket
// driver.js` avoids it, which matters for scenarios with hundreds of clients.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REEXEC_ENV = 'FAULTLINE_NODE_REEXEC';

if (typeof globalThis.WebSocket === 'function') {
  const { runDriver, randomFromEnv } = await import('./lib/driver.js');
  const { warmUp } = await import('./lib/warmup.js');
  // Before the hello: the harness starts a scenario's timeline once its
  // drivers said hello, so the cold start stays out of every measurement.
  await warmUp();
  process.stdout.on('error', () => process.exit(0)); // EPIPE: the harness is gone
  runDriver({ input: process.stdin, output: process.stdout, exit: (code) => process.exit(code), random: randomFromEnv() });
} else if (process.env[REEXEC_ENV]) {
  // Already re-run with the flag and still no WebSocket: this Node is too old.
  console.error(`faultline-node: no WebSocket in Node ${process.version} even with --experimental-websocket (needs Node >= 20.10)`);
  process.exit(1);
} else {
  const child = spawn(
    process.execPath,
    ['--experimental-websocket', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [REEXEC_ENV]: '1' } },
  );
  // The harness signals this process; the engine is the child.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(sig, () => child.kill(sig));
  }
  child.on('error', (err) => {
    console.error(`faultline-node: cannot start ${process.execPath}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal); // die the same way, so the harness sees what happened
      return;
    }
    process.exit(code ?? 1);
  });
}

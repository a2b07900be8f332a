#!/usr/bin/env node
// faultline-node's driver: the engine in lib/ behind the driver protocol on
// stdin/stdout (newline-delimited JSON; stderr is free for logs).
//
//   faultline run --sdk "node sdk/node/driver.js" --scenarios scenarios/reconnect
//
// One process per client: the engine brings its own WebSocket client
// (lib/websocket.js), so no flag and no second Node process are needed on
// Node 20, which matters for scenarios with hundreds of clients.

import { runDriver, randomFromEnv } from './lib/driver.js';
import { warmUp } from './lib/warmup.js';

// Before the hello: the harness starts a scenario's timeline once its
// drivers said hello, so the cold start stays out of every measurement.
await warmUp();
process.stdout.on('error', () => process.exit(0)); // EPIPE: the harness is gone
runDriver({ input: process.stdin, output: process.stdout, exit: (code) => process.exit(code), random: randomFromEnv() });

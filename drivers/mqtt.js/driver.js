#!/usr/bin/env node
'use strict'
// faultline's driver for the real MQTT.js 4.3.7 client (Debian's node-mqtt
// at /usr/share/nodejs/mqtt): the driver protocol (docs/driver-protocol.md)
// on stdin/stdout, many clients' sessions in one process. Everything a
// session does is the library's own connection management configured
// through mqtt.connect()'s options (lib/options.js); what the driver adds
// is listed in each connect reply's contract (driver_adds).
//
//   faultline run --sdk "node drivers/mqtt.js/driver.js" --scenarios scenarios/mqtt

const { runDriver } = require('./lib/driver')
const { warmUp } = require('./lib/warmup')

process.stdout.on('error', () => process.exit(0)) // EPIPE: the harness is gone
runDriver({ input: process.stdin, output: process.stdout, env: process.env, exit: (code) => process.exit(code), ready: warmUp() })

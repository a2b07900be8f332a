'use strict'
// A real mosquitto (Debian's /usr/sbin/mosquitto 2.0.11) for the tests, on
// an ephemeral loopback port. mosquitto cannot listen on port 0 and say
// which port it got, so a free port is picked first (a listener on port 0,
// closed again) and the start retried on another if it was taken meanwhile.
// Outside test/ because the runner would run it as a test.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const MOSQUITTO = '/usr/sbin/mosquitto'
const START_WAIT_MS = 5000

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

// startBroker starts mosquitto; stops gets its kill for the test's end.
// With anonymous false it refuses every client (no password file).
// The broker keeps no state on disk (persistence false): a restart forgets
// every session, as a crash of a broker without persistence does.
async function startBroker (stops, { port, anonymous = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-mosquitto-'))
  const b = { dir, proc: null, log: '', port: port || 0 }
  const conf = path.join(dir, 'mosquitto.conf')
  b.start = async () => {
    const deadline = Date.now() + START_WAIT_MS
    for (;;) {
      const p = b.port || await freePort()
      fs.writeFileSync(conf, [
        `listener ${p} 127.0.0.1`,
        // allow_anonymous false: every CONNECT without credentials is
        // refused with CONNACK 5 (not authorized).
        `allow_anonymous ${anonymous}`,
        'persistence false',
        'log_dest stderr',
        'log_type all',
        ''
      ].join('\n'))
      const r = await launch(b, conf)
      if (r === 'running') {
        b.port = p
        b.url = `mqtt://127.0.0.1:${p}`
        return b
      }
      if (Date.now() > deadline) throw new Error(`mosquitto did not start on port ${p}: ${r}; log: ${b.log.slice(-2000)}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  // kill ends the broker at once (SIGKILL: a crash, every connection reset).
  b.kill = () => new Promise((resolve) => {
    const p = b.proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve()
    p.once('exit', () => resolve())
    p.kill('SIGKILL')
  })
  b.restart = async () => { await b.kill(); return b.start() }
  // signal: SIGSTOP makes the broker silent with every connection up (a
  // black hole the clients' keepalive must find); SIGCONT undoes it.
  b.signal = (sig) => b.proc.kill(sig)
  b.received = (clientId) => [...b.log.matchAll(new RegExp(`Received PUBLISH from ${clientId} \\((d\\d), (q\\d), r\\d, m\\d+, '([^']*)'`, 'g'))]
  stops.push(async () => {
    await b.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return b.start()
}

// launch runs mosquitto until it logs "running" (or exits, or the wait ends).
function launch (b, conf) {
  return new Promise((resolve) => {
    const from = b.log.length // this run's lines only (a restart appends)
    const p = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
    b.proc = p
    let done = false
    const finish = (r) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(r)
    }
    const timer = setTimeout(() => { p.kill('SIGKILL'); finish('no "running" line in time') }, START_WAIT_MS)
    p.stderr.on('data', (d) => {
      b.log += d
      if (/mosquitto version \S+ running/.test(b.log.slice(from))) finish('running')
    })
    p.once('exit', (code, sig) => finish(`exited ${code ?? sig}${/Address already in use/.test(b.log.slice(from)) ? ' (address in use)' : ''}`))
    p.once('error', (e) => finish(`spawn: ${e.message}`))
  })
}

module.exports = { startBroker, freePort }

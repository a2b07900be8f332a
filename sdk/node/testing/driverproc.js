// The stdio driver as the harness runs it, for tests: `node driver.js` as a
// process, its lines read as they come. Outside test/ because the runner
// would run it as a test.

import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const DRIVER = fileURLToPath(new URL('../driver.js', import.meta.url));

// spawnDriver runs the driver (args: its flags; stops gets its kill) and
// reads its lines: hello, replies by id, events in order.
export function spawnDriver(stops, env = {}, args = []) {
  const env2 = { ...process.env, ...env };
  delete env2.NODE_TEST_CONTEXT;
  const p = spawn(process.execPath, [DRIVER, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: env2 });
  const d = { p, lines: [], events: [], replies: new Map(), waiters: [], stderr: '', nextID: 1 };
  const notify = () => {
    for (const w of [...d.waiters]) {
      if (w.cond()) {
        d.waiters.splice(d.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  readline.createInterface({ input: p.stdout }).on('line', (l) => {
    const m = JSON.parse(l); // every line must be JSON
    d.lines.push(m);
    if ('re' in m) d.replies.set(m.re, m);
    else if ('type' in m) d.events.push(m);
    notify();
  });
  p.stderr.on('data', (b) => {
    d.stderr += b;
  });
  d.exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  d.until = (cond, ms = 5000, what = 'condition') => {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${what} not within ${ms}ms; lines: ${JSON.stringify(d.lines)}; stderr: ${d.stderr}`)), ms);
      d.waiters.push({ cond, resolve: () => { clearTimeout(t); resolve(); } });
    });
  };
  d.send = (op) => {
    const id = d.nextID++;
    p.stdin.write(JSON.stringify({ id, ...op }) + '\n');
    return id;
  };
  d.do = async (op, ms = 5000) => {
    const id = d.send(op);
    await d.until(() => d.replies.has(id), ms, `reply to ${op.op}`);
    return d.replies.get(id);
  };
  d.kill = () => p.kill('SIGKILL');
  stops.push(async () => {
    if (p.exitCode === null && p.signalCode === null) d.kill();
  });
  return d;
}


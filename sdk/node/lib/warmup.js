// warmUp runs two WebSocket attempts through the engine's transport against
// a throwaway in-process loopback server, before the driver says hello: one
// answered (upgrade, hello, welcome, adopt, drop) and one reset during its
// upgrade. Why: a fresh process runs that code cold (lazy module loading,
// first compilation). Measured here with the engine's own client: the first
// attempt of a process took 4 to 10 ms, answered or refused, against 0.5 to
// 1.5 ms for the next ones (with undici, before websocket.js: ~180 ms and
// ~40 ms). The harness measures attempts and windows to tens of milliseconds,
// and starts a scenario's timeline once every driver said hello, so the cold
// start is paid here, outside every measurement.
//
// It never fails and never takes longer than boundMs: a warm-up that goes
// wrong just leaves the engine cold. Nothing of it outlives the call.

import crypto from 'node:crypto';
import http from 'node:http';

import { Conn, dial } from './transport.js';
import { encode, T } from './wire.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export async function warmUp({ boundMs = 1500, WebSocket } = {}) {
  const sockets = new Set();
  const srv = http.createServer((req, res) => res.writeHead(426).end());
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  // Answer the upgrade, then a welcome frame once any data (the hello)
  // arrives: the engine's whole success path, decoding included.
  srv.on('upgrade', (req, sock) => {
    if (req.url === '/reset') {
      sock.destroy(); // the failure path: a connection lost during its upgrade
      return;
    }
    const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + GUID).digest('base64');
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sock.once('data', () => {
      const body = Buffer.from(encode({ t: T.WELCOME, session: 'warm-up', ping_ms: 1000 }));
      sock.write(Buffer.concat([Buffer.from([0x81, body.length]), body])); // unmasked text frame, < 126 bytes
    });
  });
  let timer;
  try {
    await new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', resolve);
    });
    const url = `ws://127.0.0.1:${srv.address().port}/`;
    const attempt = (u) =>
      new Promise((resolve) => {
        dial(u, encode({ t: T.HELLO }), boundMs, (ans) => {
          if (!ans.ws) {
            resolve();
            return;
          }
          // Adopt and drop it, as the session would on a loss.
          const c = new Conn(ans.ws, u, { idleMs: 1000 });
          c.abort().then(resolve);
        }, { WebSocket });
      });
    await Promise.race([
      attempt(url).then(() => attempt(`${url}reset`)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, boundMs);
      }),
    ]);
  } catch {
    // no loopback listener, or anything else: stay cold
  } finally {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => srv.close(() => resolve()));
  }
}

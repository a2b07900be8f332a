// A minimal WebSocket server (RFC 6455, server side) over node:http's
// upgrade event, for tests only: Node 20 ships a WebSocket client but no
// server, and the SDK takes no dependencies. It handles what faultline's
// engine sends: masked text frames, fragmentation, ping and close. Faults are
// made by the tests through the peer (destroy = reset, hole = blackhole) and
// the server (hold = handshake never answered, stop = listener closed).
//
// Lives outside test/ because `node --test test/` runs every .js file under
// a directory named test as a test file.

import crypto from 'node:crypto';
import http from 'node:http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class WsPeer {
  #sock;
  #buf = Buffer.alloc(0);
  #parts = [];
  closed = false;

  constructor(sock) {
    this.#sock = sock;
    this.hole = false; // blackholed: nothing in, nothing out, the TCP connection held
    this.onText = () => {};
    this.onClose = () => {};
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      if (this.hole) return;
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#parse();
    });
    const gone = () => {
      if (this.closed) return;
      this.closed = true;
      this.onClose();
    };
    sock.on('close', gone);
    sock.on('error', gone);
  }

  #parse() {
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const op = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskOff + (i % 4)];
      this.#buf = b.subarray(off + len);
      switch (op) {
        case 0x0: // continuation
        case 0x1: // text
        case 0x2: // binary
          this.#parts.push(payload);
          if (fin) {
            const text = Buffer.concat(this.#parts).toString('utf8');
            this.#parts = [];
            this.onText(text);
          }
          break;
        case 0x8: // close: answer it and end
          this.#frame(0x8, payload.subarray(0, 2));
          this.#sock.end();
          break;
        case 0x9: // ping
          this.#frame(0xa, payload);
          break;
        default: // pong and the rest: nothing to do
      }
    }
  }

  #frame(op, payload) {
    if (this.closed || this.#sock.destroyed) return;
    const len = payload.length;
    let head;
    if (len < 126) {
      head = Buffer.from([0x80 | op, len]);
    } else if (len < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | op;
      head[1] = 126;
      head.writeUInt16BE(len, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | op;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    this.#sock.write(Buffer.concat([head, payload]));
  }

  sendText(text) {
    if (this.hole) return;
    this.#frame(0x1, Buffer.from(text, 'utf8'));
  }

  sendBinary(buf) {
    this.#frame(0x2, buf);
  }

  send(obj) {
    this.sendText(JSON.stringify(obj));
  }

  // close runs the closing handshake from our side.
  close(code = 1000) {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    this.#frame(0x8, p);
    this.#sock.end();
  }

  // destroy drops the TCP connection at once (a reset, as the engine sees it).
  destroy() {
    this.#sock.destroy();
  }
}

// startWsServer listens on 127.0.0.1 (never beyond). For each upgrade,
// onUpgrade(req, sock) may return false to leave the request unanswered
// (held) or destroy sock itself; otherwise the 101 is sent and
// onConnection(peer) gets the peer.
export async function startWsServer({ onConnection, onUpgrade = () => true }) {
  const sockets = new Set();
  const srv = http.createServer((req, res) => {
    res.writeHead(426).end();
  });
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  srv.on('upgrade', (req, sock) => {
    sock.on('error', () => {});
    if (onUpgrade(req, sock) === false || sock.destroyed) return;
    const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + GUID).digest('base64');
    sock.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    onConnection(new WsPeer(sock));
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  let stopped = false;
  return {
    port,
    url: `ws://127.0.0.1:${port}/`,
    // stop closes the listener (later dials are refused) and every
    // connection, and resolves once the server is closed.
    stop() {
      if (stopped) return Promise.resolve();
      stopped = true;
      const p = new Promise((resolve) => srv.close(() => resolve()));
      for (const s of sockets) s.destroy();
      return p;
    },
  };
}

// A WebSocket client (RFC 6455) over node:net, with the part of the WHATWG
// interface the transport uses: new WebSocket(url, {headers}), onopen,
// onmessage, onerror, onclose, send(text), close(), readyState, plus
// terminate() (end the TCP connection at once, quietly).
//
// Why our own and not Node's: Node 20 has its WebSocket (undici's) only
// behind --experimental-websocket, so the driver had to run Node twice per
// client (itself, then itself with the flag), and undici loads lazily on
// first use. Measured here: `node --experimental-websocket driver.js` took
// 0.18 s of CPU and 86 MB RSS to its hello, plus 0.06 s and 40 MB for the
// re-run's parent, against 0.07 s and 46 MB for Node with this module; 320
// drivers (a failover statistics scenario) took over two minutes to start.
// undici's close() also cannot end a connection at once (a closing handshake
// without a timeout; on a connection still upgrading, a second idle
// connection to the same server), which the transport had to work around
// by finding the TCP socket through a diagnostics channel. Here the socket
// is ours: terminate() destroys it.
//
// What it does not do: wss:, extensions (no compression), subprotocols,
// redirects. Events are dispatched synchronously from the socket's data
// handler, frame by frame and in order, each to the handler set at that
// moment: a handler that swaps the handlers (the transport's hand-over from
// an attempt to a connection) gets the very next frame on the new ones.

import crypto from 'node:crypto';
import net from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
// Bounds on what the server may make us hold: a 101 response's head and one
// message (the wire protocol's frames are far smaller: wire.js MAX_FRAME).
const MAX_HEAD = 16 << 10;
const MAX_MESSAGE = 16 << 20;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class WebSocket {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSING = CLOSING;
  static CLOSED = CLOSED;

  onopen = null;
  onmessage = null;
  onerror = null;
  onclose = null;
  binaryType = 'arraybuffer'; // binary messages come as ArrayBuffer (never Blob)

  #sock;
  #key;
  #state = CONNECTING;
  #head = Buffer.alloc(0); // the 101 response until its end
  #buf = Buffer.alloc(0); // frame bytes not parsed yet
  #parts = []; // a fragmented message's payloads so far
  #partsOp = 0;
  #partsLen = 0;
  #closeSent = false;
  #closeCode = 1005;
  #closeReason = '';
  #clean = false; // a close frame was received
  #error = null; // why the connection failed, for the error event
  #done = false; // close reported (or terminated): nothing more is dispatched

  constructor(url, { headers = {} } = {}) {
    const u = new URL(url);
    if (u.protocol !== 'ws:') throw new SyntaxError(`unsupported URL scheme ${u.protocol} (only ws:)`);
    this.url = u.href;
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const port = Number(u.port || 80);
    this.#key = crypto.randomBytes(16).toString('base64');
    const lines = [
      `GET ${u.pathname || '/'}${u.search} HTTP/1.1`,
      `Host: ${u.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${this.#key}`,
      'Sec-WebSocket-Version: 13',
    ];
    for (const [k, v] of Object.entries(headers)) {
      if (/[\r\n:]/.test(k) || /[\r\n]/.test(String(v))) throw new SyntaxError(`bad header ${JSON.stringify(k)}`);
      lines.push(`${k}: ${v}`);
    }
    const request = lines.join('\r\n') + '\r\n\r\n';
    // As undici's constructor does, the TCP connect starts here, at once.
    const sock = net.connect({ host, port });
    this.#sock = sock;
    sock.setNoDelay(true); // frames are small and timed: no Nagle delay
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d) => this.#onData(d));
    sock.on('error', (err) => {
      this.#error ??= err;
    });
    sock.on('close', () => this.#onSocketClose());
  }

  get readyState() {
    return this.#state;
  }

  // send writes one text message (a string) or a binary one (anything else
  // Buffer.from takes). Before the connection is open it throws, as the
  // WHATWG interface does; once closing or closed it does nothing.
  send(data) {
    if (this.#state === CONNECTING) throw new Error('InvalidStateError: still CONNECTING');
    if (this.#state !== OPEN) return;
    if (typeof data === 'string') this.#frame(0x1, Buffer.from(data, 'utf8'));
    else this.#frame(0x2, Buffer.from(data));
  }

  // close starts the closing handshake on an open connection (the server
  // answers with its close frame and ends the TCP connection: onclose); on
  // one still connecting it ends at once (error, then close 1006). No
  // timeout: the caller bounds it and terminates.
  close(code, reason = '') {
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    if (this.#state === CONNECTING) {
      this.#fail(new Error('closed before the connection was established'));
      return;
    }
    this.#state = CLOSING;
    this.#sendClose(code, reason);
  }

  // terminate ends the TCP connection at once, whatever the state, and
  // reports nothing more.
  terminate() {
    this.#done = true;
    this.#state = CLOSED;
    this.#sock.destroy();
  }

  #sendClose(code, reason) {
    if (this.#closeSent) return;
    this.#closeSent = true;
    let payload = Buffer.alloc(0);
    if (code !== undefined) {
      const r = Buffer.from(String(reason), 'utf8').subarray(0, 123);
      payload = Buffer.alloc(2 + r.length);
      payload.writeUInt16BE(code);
      r.copy(payload, 2);
    }
    this.#frame(0x8, payload);
  }

  #frame(op, payload) {
    const sock = this.#sock;
    if (sock.destroyed || !sock.writable) return;
    const len = payload.length;
    let head;
    if (len < 126) {
      head = Buffer.alloc(6);
      head[1] = 0x80 | len;
    } else if (len < 65536) {
      head = Buffer.alloc(8);
      head[1] = 0x80 | 126;
      head.writeUInt16BE(len, 2);
    } else {
      head = Buffer.alloc(14);
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    head[0] = 0x80 | op; // FIN: we never fragment
    const mask = head.subarray(head.length - 4);
    crypto.randomFillSync(mask); // a client masks every frame (RFC 6455 5.3)
    const body = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
    sock.write(Buffer.concat([head, body]));
  }

  #onData(d) {
    if (this.#done) return;
    if (this.#state === CONNECTING) {
      this.#head = Buffer.concat([this.#head, d]);
      const end = this.#head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#head.length > MAX_HEAD) this.#fail(new Error(`handshake response head exceeds ${MAX_HEAD} bytes`));
        return;
      }
      const rest = this.#head.subarray(end + 4);
      const problem = this.#checkHead(this.#head.subarray(0, end).toString('latin1'));
      this.#head = null;
      if (problem) {
        this.#fail(new Error(problem));
        return;
      }
      this.#state = OPEN;
      this.onopen?.({ type: 'open' });
      if (this.#done || rest.length === 0) return;
      d = rest;
    }
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    this.#parse();
  }

  #checkHead(head) {
    const [status, ...fields] = head.split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3})/.exec(status);
    if (!m) return `not an HTTP/1.1 response: ${JSON.stringify(status.slice(0, 80))}`;
    if (m[1] !== '101') return `unexpected response status ${m[1]} (want 101 Switching Protocols)`;
    const h = {};
    for (const f of fields) {
      const i = f.indexOf(':');
      if (i > 0) h[f.slice(0, i).trim().toLowerCase()] = f.slice(i + 1).trim();
    }
    if ((h.upgrade ?? '').toLowerCase() !== 'websocket') return 'response lacks Upgrade: websocket';
    const want = crypto.createHash('sha1').update(this.#key + GUID).digest('base64');
    if (h['sec-websocket-accept'] !== want) return 'response has a wrong Sec-WebSocket-Accept';
    if (h['sec-websocket-extensions']) return `server chose an extension we did not offer: ${h['sec-websocket-extensions']}`;
    return '';
  }

  // #parse dispatches every complete frame in #buf, stopping as soon as a
  // handler ended the connection.
  #parse() {
    while (!this.#done) {
      const b = this.#buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const op = b[0] & 0x0f;
      if ((b[0] & 0x70) !== 0) return this.#protocol('reserved bits set (no extension was agreed)');
      if ((b[1] & 0x80) !== 0) return this.#protocol('masked frame from the server');
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(MAX_MESSAGE)) return this.#protocol(`frame of ${big} bytes exceeds ${MAX_MESSAGE}`, 1009);
        len = Number(big);
        off = 10;
      }
      if (len > MAX_MESSAGE) return this.#protocol(`frame of ${len} bytes exceeds ${MAX_MESSAGE}`, 1009);
      if (b.length < off + len) return;
      const payload = b.subarray(off, off + len);
      this.#buf = b.subarray(off + len);
      if (op >= 0x8) {
        if (!fin || len > 125) return this.#protocol('fragmented or oversized control frame');
        this.#control(op, payload);
        continue;
      }
      if (op === 0x0) {
        if (this.#partsOp === 0) return this.#protocol('continuation without a message');
      } else if (op === 0x1 || op === 0x2) {
        if (this.#partsOp !== 0) return this.#protocol('new message inside a fragmented one');
        this.#partsOp = op;
      } else {
        return this.#protocol(`unknown opcode ${op}`);
      }
      this.#partsLen += len;
      if (this.#partsLen > MAX_MESSAGE) return this.#protocol(`message exceeds ${MAX_MESSAGE} bytes`, 1009);
      this.#parts.push(payload);
      if (!fin) continue;
      const whole = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts);
      const kind = this.#partsOp;
      this.#parts = [];
      this.#partsOp = 0;
      this.#partsLen = 0;
      if (this.#state !== OPEN) continue; // closing: what comes after our close is of no use
      let data;
      if (kind === 0x1) {
        try {
          data = utf8.decode(whole);
        } catch {
          return this.#protocol('text message is not UTF-8', 1007);
        }
      } else {
        data = whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.length);
      }
      this.onmessage?.({ type: 'message', data });
    }
  }

  #control(op, payload) {
    switch (op) {
      case 0x8: // close: answer it (unless we started it) and let the server end TCP
        if (payload.length >= 2) {
          this.#closeCode = payload.readUInt16BE(0);
          this.#closeReason = payload.subarray(2).toString('utf8');
        }
        this.#clean = true;
        this.#state = CLOSING;
        this.#sendClose(payload.length >= 2 ? this.#closeCode : undefined, '');
        this.#sock.end();
        break;
      case 0x9: // ping
        if (this.#state === OPEN) this.#frame(0xa, payload);
        break;
      case 0xa: // pong: nothing to do
        break;
      default:
        this.#protocol(`unknown control opcode ${op}`);
    }
  }

  // #protocol fails the connection for a protocol violation by the server.
  #protocol(why, code = 1002) {
    if (this.#state === OPEN) this.#sendClose(code, '');
    this.#fail(new Error(`WebSocket protocol error: ${why}`));
  }

  // #fail ends the connection abruptly: error, then close (1006).
  #fail(err) {
    this.#error ??= err;
    this.#clean = false;
    this.#sock.destroy(); // 'close' follows and reports
  }

  #onSocketClose() {
    if (this.#done) return;
    this.#done = true;
    const wasOpen = this.#state !== CONNECTING;
    this.#state = CLOSED;
    if (!this.#clean) {
      const err = this.#error ?? new Error(wasOpen ? 'connection closed without a close frame' : 'connection closed during the handshake');
      this.onerror?.({ type: 'error', message: err.message, error: err });
    }
    const code = this.#clean ? this.#closeCode : 1006;
    this.onclose?.({ type: 'close', code, reason: this.#clean ? this.#closeReason : '', wasClean: this.#clean });
  }
}

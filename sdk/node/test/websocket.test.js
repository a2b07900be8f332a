// The engine's own WebSocket client (lib/websocket.js) against a raw TCP
// server that writes exactly the bytes each test needs: the handshake's
// checks, framing (lengths, fragments, control frames), the closing
// handshake, protocol errors, and terminate().

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { after, test } from 'node:test';

import { WebSocket } from '../lib/websocket.js';
import { startWsServer } from '../testing/wsserver.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const stops = [];
after(() => Promise.all(stops.map((f) => f())));

// rawServer answers each connection's upgrade request with respond(key)
// (the 101 by default) and hands the socket and the request to onSock.
async function rawServer({ respond, onSock = () => {} } = {}) {
  const socks = new Set();
  const srv = net.createServer((sock) => {
    socks.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => socks.delete(sock));
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? '';
      const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
      const res = respond ? respond(key, accept) : `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
      if (res !== null) sock.write(res);
      onSock(sock, head.slice(0, end));
    };
    sock.on('data', onData);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const stop = () => {
    for (const s of socks) s.destroy();
    return new Promise((resolve) => srv.close(() => resolve()));
  };
  stops.push(stop);
  return { url: `ws://127.0.0.1:${srv.address().port}/path?q=1`, stop };
}

// frame is an unmasked server frame.
function frame(op, payload, { fin = true, masked = false } = {}) {
  const p = Buffer.from(payload);
  let head;
  if (p.length < 126) head = Buffer.from([0, p.length]);
  else if (p.length < 65536) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(p.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(p.length), 2);
  }
  head[0] = (fin ? 0x80 : 0) | op;
  if (masked) head[1] |= 0x80;
  return Buffer.concat([head, masked ? Buffer.alloc(4) : Buffer.alloc(0), p]);
}

// readFrames parses the client's (masked) frames from a socket.
function readFrames(sock, onFrame) {
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      assert.ok(buf[1] & 0x80, 'a client frame must be masked');
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4);
      const p = Buffer.from(buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < len; i++) p[i] ^= mask[i & 3];
      onFrame(buf[0] & 0x0f, p, (buf[0] & 0x80) !== 0);
      buf = buf.subarray(off + 4 + len);
    }
  });
}

// record collects a client's events in order.
function record(ws) {
  const r = { events: [], waiters: [] };
  const push = (e) => {
    r.events.push(e);
    for (const w of [...r.waiters]) if (w.cond()) w.resolve();
  };
  ws.onopen = () => push({ type: 'open' });
  ws.onmessage = (ev) => push({ type: 'message', data: ev.data });
  ws.onerror = (ev) => push({ type: 'error', message: ev.message });
  ws.onclose = (ev) => push({ type: 'close', code: ev.code, wasClean: ev.wasClean, reason: ev.reason });
  r.until = (cond, what, ms = 2000) => {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${what} not within ${ms}ms: ${JSON.stringify(r.events)}`)), ms);
      r.waiters.push({ cond, resolve: () => { clearTimeout(t); resolve(); } });
    });
  };
  r.types = () => r.events.map((e) => e.type);
  r.closed = () => r.until(() => r.types().includes('close'), 'close');
  return r;
}

test('handshake: GET with our headers, 101 checked; frames both ways; the closing handshake is clean', async () => {
  let req = '';
  const got = [];
  const srv = await rawServer({
    onSock: (sock, head) => {
      req = head;
      readFrames(sock, (op, p) => {
        got.push([op, p.toString()]);
        if (op === 0x1) sock.write(frame(0x1, `echo ${p}`));
        if (op === 0x8) {
          sock.write(frame(0x8, p));
          sock.end();
        }
      });
    },
  });
  const ws = new WebSocket(srv.url, { headers: { 'x-test': 'yes' } });
  const r = record(ws);
  assert.equal(ws.readyState, WebSocket.CONNECTING);
  assert.throws(() => ws.send('too early'), /CONNECTING/);
  await r.until(() => r.types().includes('open'), 'open');
  assert.match(req, /^GET \/path\?q=1 HTTP\/1\.1\r\n/);
  assert.match(req, /\r\nUpgrade: websocket\r\n/);
  assert.match(req, /\r\nSec-WebSocket-Version: 13\r\n/);
  assert.match(req, /\r\nx-test: yes(\r\n|$)/);
  ws.send('héllo');
  ws.send('x'.repeat(70_000)); // a 64-bit length
  await r.until(() => r.events.filter((e) => e.type === 'message').length === 2, 'echoes');
  assert.equal(r.events[1].data, 'echo héllo');
  assert.equal(r.events[2].data.length, 70_005);
  ws.close(1000, 'bye');
  assert.equal(ws.readyState, WebSocket.CLOSING);
  await r.closed();
  assert.deepEqual(r.types(), ['open', 'message', 'message', 'close']);
  assert.deepEqual(r.events.at(-1), { type: 'close', code: 1000, wasClean: true, reason: 'bye' });
  assert.equal(ws.readyState, WebSocket.CLOSED);
  assert.equal(got.at(-1)[0], 0x8);
});

test('fragments are joined, pings answered with pongs, and several frames in one chunk go out in order to the handlers of the moment', async () => {
  const pongs = [];
  const srv = await rawServer({
    respond: (key, accept) =>
      Buffer.concat([
        Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`),
        // in the same segment as the 101: a first message
        frame(0x1, 'first'),
      ]),
    onSock: (sock) => {
      readFrames(sock, (op, p) => {
        if (op === 0xa) pongs.push(p.toString());
      });
      sock.write(Buffer.concat([frame(0x1, 'fra', { fin: false }), frame(0x9, 'are you there'), frame(0x0, 'gment'), frame(0x1, 'third')]));
    },
  });
  const ws = new WebSocket(srv.url);
  const seen = [];
  ws.onmessage = (ev) => {
    seen.push(`a:${ev.data}`);
    // the hand-over: the next frame, already in the buffer, must reach the new handler
    ws.onmessage = (ev2) => seen.push(`b:${ev2.data}`);
  };
  await new Promise((resolve) => {
    const t = setInterval(() => {
      if (seen.length === 3 && pongs.length === 1) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
  assert.deepEqual(seen, ['a:first', 'b:fragment', 'b:third']);
  assert.deepEqual(pongs, ['are you there']);
  ws.terminate();
});

test('a binary message comes as an ArrayBuffer', async () => {
  const srv = await rawServer({ onSock: (sock) => sock.write(frame(0x2, Buffer.from([1, 2, 3]))) });
  const ws = new WebSocket(srv.url);
  const r = record(ws);
  await r.until(() => r.types().includes('message'), 'message');
  assert.ok(r.events[1].data instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(r.events[1].data)], [1, 2, 3]);
  ws.terminate();
});

test('a refused connection: error, then close 1006, never open', async () => {
  const srv = await rawServer();
  await srv.stop();
  const r = record(new WebSocket(srv.url));
  await r.closed();
  assert.deepEqual(r.types(), ['error', 'close']);
  assert.match(r.events[0].message, /ECONNREFUSED/);
  assert.equal(r.events[1].code, 1006);
  assert.equal(r.events[1].wasClean, false);
});

test('bad handshakes fail the connection: not 101, a wrong accept, an extension not offered, a head too long', async () => {
  const cases = [
    [() => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', /status 403/],
    [() => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n', /Sec-WebSocket-Accept/],
    [(k, a) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${a}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`, /extension/],
    [() => 'HTTP/1.1 101 Switching Protocols\r\n' + 'X: y\r\n'.repeat(5000), /exceeds/],
    [() => 'garbage\r\n\r\n', /not an HTTP\/1\.1 response/],
  ];
  for (const [respond, want] of cases) {
    const srv = await rawServer({ respond });
    const r = record(new WebSocket(srv.url));
    await r.closed();
    assert.deepEqual(r.types(), ['error', 'close'], String(want));
    assert.match(r.events[0].message, want);
    assert.equal(r.events[1].code, 1006);
  }
});

test('protocol errors from the server fail the connection (error, close 1006) after a close frame to it', async () => {
  const cases = [
    [frame(0x1, 'x', { masked: true }), /masked frame/],
    [frame(0x0, 'x'), /continuation without a message/],
    [frame(0x3, 'x'), /unknown opcode/],
    [frame(0x9, 'x', { fin: false }), /control frame/],
    [frame(0x1, Buffer.from([0xff, 0xfe])), /not UTF-8/],
    [Buffer.concat([frame(0x1, 'a', { fin: false }), frame(0x1, 'b')]), /new message inside a fragmented one/],
  ];
  for (const [bytes, want] of cases) {
    let closeCode = 0;
    const srv = await rawServer({
      onSock: (sock) => {
        readFrames(sock, (op, p) => {
          if (op === 0x8) closeCode = p.readUInt16BE(0);
        });
        sock.write(bytes);
      },
    });
    const r = record(new WebSocket(srv.url));
    await r.closed();
    assert.deepEqual(r.types(), ['open', 'error', 'close'], String(want));
    assert.match(r.events[1].message, want);
    assert.equal(r.events[2].code, 1006);
    assert.ok(closeCode === 1002 || closeCode === 1007 || closeCode === 0, `close code ${closeCode}`);
  }
});

test('the server\'s close is answered and reported clean; a TCP end without one is not', async () => {
  let answered = null;
  const srv = await rawServer({
    onSock: (sock) => {
      readFrames(sock, (op, p) => {
        if (op === 0x8) {
          answered = p.readUInt16BE(0);
          sock.end();
        }
      });
      const p = Buffer.alloc(2 + 4);
      p.writeUInt16BE(4001);
      p.write('done', 2);
      sock.write(frame(0x8, p));
    },
  });
  const r = record(new WebSocket(srv.url));
  await r.closed();
  assert.deepEqual(r.types(), ['open', 'close']);
  assert.deepEqual(r.events[1], { type: 'close', code: 4001, wasClean: true, reason: 'done' });
  assert.equal(answered, 4001);

  const srv2 = await rawServer({ onSock: (sock) => sock.end() });
  const r2 = record(new WebSocket(srv2.url));
  await r2.closed();
  assert.deepEqual(r2.types(), ['open', 'error', 'close']);
  assert.equal(r2.events[2].code, 1006);
});

test('terminate ends the TCP connection at once and reports nothing, in any state; close() while connecting fails it', async () => {
  let ends = 0;
  let conns = 0;
  const srv = await rawServer({
    respond: () => null, // hold the upgrade: never answer
    onSock: (sock) => {
      conns++;
      sock.on('close', () => ends++);
    },
  });
  const held = new WebSocket(srv.url);
  const r = record(held);
  while (conns < 1) await new Promise((res) => setTimeout(res, 5));
  held.terminate();
  while (ends < 1) await new Promise((res) => setTimeout(res, 5));
  await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(r.types(), [], 'terminate reports nothing');
  assert.equal(held.readyState, WebSocket.CLOSED);

  const held2 = new WebSocket(srv.url);
  const r2 = record(held2);
  while (conns < 2) await new Promise((res) => setTimeout(res, 5));
  held2.close();
  await r2.closed();
  assert.deepEqual(r2.types(), ['error', 'close']);
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(conns, 2, 'closing an attempt opens no other connection');
});

test('works against the tests\' WebSocket server too (the one the session tests use)', async () => {
  const srv = await startWsServer({ onConnection: (peer) => { peer.onText = (t) => peer.sendText(t.toUpperCase()); } });
  stops.push(() => srv.stop());
  const ws = new WebSocket(srv.url);
  const r = record(ws);
  await r.until(() => r.types().includes('open'), 'open');
  ws.send('ping');
  await r.until(() => r.types().includes('message'), 'message');
  assert.equal(r.events[1].data, 'PING');
  ws.close(1000);
  await r.closed();
  assert.equal(r.events.at(-1).wasClean, true);
});

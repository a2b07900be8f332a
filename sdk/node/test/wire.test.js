import assert from 'node:assert/strict';
import test from 'node:test';

import { FrameError, MAX_FRAME, decode, encode } from '../lib/wire.js';

test('decode accepts the frames of the protocol', () => {
  assert.deepEqual(decode('{"t":"welcome","session":"s","token":"k","ping_ms":100,"retention_ms":5000}'),
    { t: 'welcome', session: 's', token: 'k', ping_ms: 100, retention_ms: 5000 });
  assert.equal(decode('{"t":"msg","topic":"p","seq":3,"data":{"x":1}}').seq, 3);
  assert.equal(decode('{"t":"ping"}').t, 'ping');
  assert.equal(decode('{"t":"ping","future_field":true}').t, 'ping'); // unknown fields are ignored
});

test('decode refuses what wire.Decode refuses', () => {
  const bad = [
    'not json', '[]', 'null', '{"t":"nope"}', '{}', '{"t":"msg","seq":1}', '{"t":"sub"}',
    '{"t":"send"}', '{"t":"welcome"}', '{"t":"resumed"}', '{"t":"msg","topic":"p","seq":-1}',
    '{"t":"ack","n":1.5}', '{"t":"welcome","session":7}', '{"t":"ping","ping_ms":"100"}',
  ];
  for (const b of bad) assert.throws(() => decode(b), FrameError, b);
  assert.throws(() => decode(Buffer.from('{"t":"ping"}')), FrameError); // binary
  assert.throws(() => decode(`{"t":"ping","data":"${'x'.repeat(MAX_FRAME)}"}`), /exceeds/);
});

test('encode leaves out empty fields, as omitempty does, but keeps a null payload', () => {
  assert.equal(encode({ t: 'hello', principal: 'p', session: '', retention_ms: 0, no_reconnect: false, last: {} }),
    '{"t":"hello","principal":"p"}');
  assert.equal(encode({ t: 'send', n: 1, data: null }), '{"t":"send","n":1,"data":null}');
  assert.equal(encode({ t: 'send', n: 2, data: 'm2' }), '{"t":"send","n":2,"data":"m2"}');
  assert.equal(encode({ t: 'hello', no_reconnect: true, last: { a: 3 } }), '{"t":"hello","no_reconnect":true,"last":{"a":3}}');
});

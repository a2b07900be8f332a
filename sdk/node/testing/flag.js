// Node 20 has its WebSocket client only behind --experimental-websocket, and
// `node --test` passes its own flags on to the test files it runs. A test
// file that needs the engine calls rerunWithWebSocket(import.meta.url)
// first: with the global present it returns false and the file goes on;
// without it, the file registers one test that runs the file again with the
// flag, passing when that run passes, and returns true (define nothing else).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

export function rerunWithWebSocket(fileUrl) {
  if (typeof globalThis.WebSocket === 'function') return false;
  const file = fileURLToPath(fileUrl);
  test(`${file.split('/').pop()} with --experimental-websocket`, (t) => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT; // a plain run, reporting TAP to us, not to the outer runner
    const r = spawnSync(process.execPath, ['--experimental-websocket', '--test-reporter=tap', file], {
      encoding: 'utf8', env, timeout: 120_000,
    });
    const count = (k) => (r.stdout ?? '').match(new RegExp(`^# ${k} (\\d+)$`, 'm'))?.[1] ?? '?';
    t.diagnostic(`re-run: ${count('pass')} of ${count('tests')} passed, ${count('fail')} failed`);
    assert.equal(r.status, 0, `re-run failed (status ${r.status}, signal ${r.signal})\n${r.stdout}\n${r.stderr}`);
  });
  return true;
}

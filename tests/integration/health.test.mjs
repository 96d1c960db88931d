// GET /healthz: the JSON of api.md; 503 "degraded" within about a second when the
// database does not answer (another process holds its write lock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Relayhost } from './lib/relayhost.mjs';

test('healthz answers the JSON of api.md', async () => {
  const rh = await Relayhost.start();
  try {
    const res = await rh.fetch('/healthz');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ['database', 'status', 'version', 'zooid']);
    assert.equal(body.status, 'ok');
    assert.equal(body.database, 'ok');
    assert.ok(['ok', 'unreachable', 'unknown'].includes(body.zooid));
    assert.match(body.version, /^\d+\.\d+\.\d+/);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

// Holds SQLite's write lock on the database from another process until killed.
function lockDatabase(file) {
  const py = `import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute('BEGIN IMMEDIATE')
print('locked', flush=True)
time.sleep(60)`;
  const child = spawn('python3', ['-c', py, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`locker exited ${code}`)));
  });
}

test('healthz is 503 degraded, within about a second, when the database does not answer; ok again after', async () => {
  const rh = await Relayhost.start();
  const locker = await lockDatabase(path.join(rh.dataDir, 'hosting.db'));
  try {
    const t0 = Date.now();
    const res = await rh.fetch('/healthz');
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, 'degraded');
    assert.notEqual(body.database, 'ok');
    // api.md: within 1 s. Generous bound for loaded CI machines; the budget itself is 0.8 s.
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
  } finally {
    locker.kill('SIGKILL');
  }
  try {
    const res = await rh.fetch('/healthz');
    assert.equal(res.status, 200);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

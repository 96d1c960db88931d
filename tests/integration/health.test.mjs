// GET /healthz: the JSON of api.md; 503 "degraded" within about a second when the
// database does not answer (another process holds its write lock); an idle server
// reports zooid ok/unreachable from its probes, never a stale "unknown".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relayhost } from './lib/relayhost.mjs';
import { startZooid } from './lib/zooid_standin.mjs';

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
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({
      /// SIGKILL, resolved once the process is gone (and with it its lock): a kill is only
      /// a signal sent, the lock may outlive kill() for a moment.
      async release() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    }));
    exited.then((code) => reject(new Error(`locker exited ${code}`)));
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
    await locker.release();
  }
  try {
    const res = await rh.fetch('/healthz');
    assert.equal(res.status, 200);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

async function zooidField(rh) {
  return (await (await rh.fetch('/healthz')).json()).zooid;
}

async function until(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

test('an idle server probes zooid: ok soon after start, unreachable when it goes down, ok when it is back', async () => {
  const platformSk = generateSecretKey();
  const zooid = await startZooid({ whitelist: [getPublicKey(platformSk)] });  // a free port of its own
  const { port } = zooid;
  const rh = await Relayhost.start({
    env: { PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'), ZOOID_API_URL: `http://127.0.0.1:${port}` },
  });
  try {
    // No relay, so no zooid call: only the probe can tell.
    await until('zooid ok after start', async () => (await zooidField(rh)) === 'ok', 5000);
    assert.equal(zooid.calls.length, 0, 'the probe is not a relay call');
    assert.ok(zooid.probes.length >= 1);
    assert.equal(zooid.probes[0].method, 'GET');
    assert.equal(zooid.probes[0].host, `127.0.0.1:${port}`, 'probe sent to the API host');
    await zooid.stop();
    // Stale after 10 s without an answer, probed every 5 s with a 2 s timeout.
    await until('zooid unreachable', async () => (await zooidField(rh)) === 'unreachable', 25000);
    await zooid.restart();
    await until('zooid ok again', async () => (await zooidField(rh)) === 'ok', 25000);
    // Idle and healthy: probes stay a trickle (one per 5 s at most), not a loop.
    const before = zooid.probes.length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(zooid.probes.length - before <= 1, `${zooid.probes.length - before} probes in 3 s`);
  } finally {
    await rh.stop();
    rh.cleanup();
    await zooid.stop();
  }
});

// Faults of relayhost's own machine, through the real binary: the disk full (a
// file-size limit set on the running process with prlimit, so SQLite's next write
// fails with EFBIG like a full disk) — writes answer 503 `unavailable` with a clear
// message, nothing half-written is kept or shown, reads keep working, /healthz
// stays up, and once the disk has room again writes succeed without a restart.
// The same for the database made read-only under the running server (its files
// made immutable with chattr, which stops even root's writes through open files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';

const prlimit = (pid, fsize) => execFileSync('prlimit', ['--pid', String(pid), `--fsize=${fsize}`]);

test('disk full: writes are 503 with a clear message and change nothing; it recovers when there is room', async () => {
  const rh = await Relayhost.start({ env: { ZOOID_API_URL: 'http://127.0.0.1:1', RELAY_DOMAIN: 'spaces.test' } });
  try {
    const tenant = new Client(rh);
    for (const sub of ['before-one', 'before-two'])
      assert.equal((await tenant.post('/tenant/relays', { subdomain: sub, name: sub, plan: 'free' })).status, 201);

    // No file may grow any more. Writes that fit in space the files already have
    // (SQLite reuses its WAL after a checkpoint) still succeed, like on a real full
    // disk; the first one that needs more space fails. Every write is answered
    // either 201 (and kept) or 503 (and absent), never anything in between.
    prlimit(rh.child.pid, '4096:');  // the soft limit only: it can be raised again
    const acked = ['before-one', 'before-two'];
    const refused = [];
    for (let i = 0; i < 300 && refused.length < 3; i++) {
      const sub = `during-${i}`;
      const res = await tenant.post('/tenant/relays', { subdomain: sub, name: sub, plan: 'free', description: 'x'.repeat(400) });
      if (res.status === 201) {
        acked.push(sub);
        continue;
      }
      assert.equal(res.status, 503, res.raw);
      assert.equal(res.json.code, 'unavailable');
      assert.match(res.json.error, /cannot write to its disk; the change was not saved/);
      refused.push(sub);
    }
    assert.ok(refused.length > 0, 'the disk filled up');
    // Reads answer from what was committed; nothing of the refused writes shows.
    const list = await tenant.get('/tenant/relays?limit=100');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.items.map((r) => r.subdomain), acked);
    assert.equal(rh.exited, null, 'the server is still running');
    assert.equal((await rh.fetch('/healthz')).status, 200);

    prlimit(rh.child.pid, 'unlimited:');
    const after = await tenant.post('/tenant/relays', { subdomain: 'after-one', name: 'a', plan: 'free' });
    assert.equal(after.status, 201, after.raw);
    acked.push('after-one');
    // A refused subdomain was never taken: it can be created now.
    assert.equal((await tenant.post('/tenant/relays', { subdomain: refused[0], name: 'd', plan: 'free' })).status, 201);
    acked.push(refused[0]);
    await rh.restart();
    const final = await new Client(rh, tenant.sk).get('/tenant/relays?limit=100');
    assert.deepEqual(final.json.items.map((r) => r.subdomain), acked, 'every acknowledged write, nothing else');
    assert.match(rh.output, /storage (commit|write) failed/);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

// chattr +i needs root (CAP_LINUX_IMMUTABLE), which scripts/test has (it runs
// apt-get); a developer running this file as a user skips only this test.
const root = process.getuid?.() === 0;
test('database read-only: writes are 503 and change nothing, reads work, it recovers', { skip: !root && 'needs root for chattr' }, async () => {
  const rh = await Relayhost.start({ env: { ZOOID_API_URL: 'http://127.0.0.1:1', RELAY_DOMAIN: 'spaces.test' } });
  // Not the -shm file: SQLite maps it into memory, and a store into a mapping of an
  // immutable file is SIGBUS (seen under TSan), which no real read-only disk does
  // (Linux refuses to remount read-only while a file is open for writing).
  const files = ['hosting.db', 'hosting.db-wal'].map((f) => path.join(rh.dataDir, f)).filter(existsSync);
  const chattr = (flag) => execFileSync('chattr', [flag, ...files, rh.dataDir]);
  try {
    const tenant = new Client(rh);
    const acked = [];
    for (const sub of ['before-one', 'before-two']) {
      assert.equal((await tenant.post('/tenant/relays', { subdomain: sub, name: sub, plan: 'free' })).status, 201);
      acked.push(sub);
    }
    const first = (await tenant.get('/tenant/relays')).json.items[0];
    chattr('+i');
    try {
      for (const attempt of [
        () => tenant.post('/tenant/relays', { subdomain: 'during-one', name: 'd', plan: 'free' }),
        () => tenant.put(`/tenant/relays/${first.id}`, { name: 'renamed while read-only' }),
        () => tenant.post('/tenant/relays', { subdomain: 'during-two', name: 'd', plan: 'free' }),
      ]) {
        const res = await attempt();
        assert.equal(res.status, 503, res.raw);
        assert.equal(res.json.code, 'unavailable');
        assert.match(res.json.error, /cannot write to its disk; the change was not saved/);
      }
      const list = await tenant.get('/tenant/relays?limit=100');
      assert.equal(list.status, 200, 'reads still work');
      assert.deepEqual(list.json.items.map((r) => r.subdomain), acked);
      assert.equal(list.json.items[0].name, first.name, 'the refused rename is not shown');
      assert.equal(rh.exited, null, 'the server is still running');
    } finally {
      chattr('-i');
    }
    const after = await tenant.post('/tenant/relays', { subdomain: 'during-one', name: 'a', plan: 'free' });
    assert.equal(after.status, 201, after.raw);
    acked.push('during-one');
    await rh.restart();
    const final = await new Client(rh, tenant.sk).get('/tenant/relays?limit=100');
    assert.deepEqual(final.json.items.map((r) => r.subdomain), acked, 'every acknowledged write, nothing else');
    assert.equal(final.json.items[0].name, first.name);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

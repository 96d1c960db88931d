// Start-up and shutdown through the real binary: migrations are applied once and
// never again; a database newer than the binary is refused with a clear line;
// SIGTERM and SIGINT stop the server cleanly (exit 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Relayhost, runToExit } from './lib/relayhost.mjs';

function sql(file, statement) {
  return execFileSync('python3', ['-c',
    'import sqlite3,sys,json; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print(json.dumps(r))',
    file, statement]).toString();
}

test('migrations run on the first start only; schema_migrations records them', async () => {
  const rh = await Relayhost.start();
  try {
    const db = path.join(rh.dataDir, 'hosting.db');
    const first = (rh.output.match(/migration applied/g) ?? []).length;
    assert.ok(first >= 1, rh.output);
    const rows = JSON.parse(sql(db, 'SELECT version, name FROM schema_migrations ORDER BY version'));
    assert.equal(rows.length, first);
    assert.equal(rows[0][0], 1);
    const tables = JSON.parse(sql(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")).flat();
    for (const t of ['tenants', 'relays', 'invoices', 'invoice_items', 'schema_migrations']) assert.ok(tables.includes(t), t);
    const before = rh.output.length;
    await rh.restart();
    assert.equal((rh.output.slice(before).match(/migration applied/g) ?? []).length, 0, 'a migration ran twice');
    assert.equal(JSON.parse(sql(db, 'SELECT count(*) FROM schema_migrations'))[0][0], first);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('a database newer than the binary is refused with exit 2', async () => {
  const rh = await Relayhost.start();
  await rh.stop();
  const db = path.join(rh.dataDir, 'hosting.db');
  sql(db, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (9999, '9999_future.sql', 0)");
  const r = await runToExit(rh.env);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^relayhost: DATABASE_URL: .*9999.*newer/m);
  rh.cleanup();
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal} stops relayhost cleanly`, async () => {
    const rh = await Relayhost.start();
    const exit = await rh.stop(signal);
    assert.deepEqual(exit, { code: 0, signal: null }, rh.output);
    assert.match(rh.output, /shutting down/);
    assert.match(rh.output, /stopped/);
    rh.cleanup();
  });
}

test('an unwritable database directory stops the start with exit 2 naming DATABASE_URL', async () => {
  const r = await runToExit({ DATABASE_URL: 'sqlite:///proc/relayhost-cannot/hosting.db' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^relayhost: DATABASE_URL: /);
});

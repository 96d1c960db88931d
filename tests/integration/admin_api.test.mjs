// The admin API through the real binary with the zooid stand-in: 401 then 403 for
// non-admins on every admin route; a suspension that takes effect at once for the
// tenant's actor and in zooid; lifting it restores exactly the relays it changed;
// the audit log; admin relay writes; pagination over 10,000 seeded tenants.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { npubEncode } from 'nostr-tools/nip19';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { startZooid } from './lib/zooid_standin.mjs';

const platformSk = generateSecretKey();
const adminSk = generateSecretKey();
let rh, zooid, admin, alice, mallory;

before(async () => {
  zooid = await startZooid({ whitelist: [getPublicKey(platformSk)] });  // a free port of its own
  const { port } = zooid;
  rh = await Relayhost.start({
    env: {
      PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'),
      ZOOID_API_URL: `http://127.0.0.1:${port}`,
      HOSTING_ADMIN_PUBKEYS: npubEncode(getPublicKey(adminSk)), // npub form accepted
      RELAY_DOMAIN: 'spaces.test',
    },
  });
  admin = new Client(rh, adminSk);
  alice = new Client(rh);
  mallory = new Client(rh);
});
after(async () => { await rh.stop(); rh.cleanup(); await zooid.stop(); });

async function until(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('every admin route: 401 without auth, 403 for a non-admin', async () => {
  // Every admin operation the server documents, and the document is derived from
  // the router (tests/unit/app_openapi.cpp): a new admin route is covered here
  // without anyone adding it to a list.
  const doc = await (await rh.fetch('/openapi.json')).json();
  const adminRoutes = Object.entries(doc.paths).filter(([p]) => p.startsWith('/admin'))
    .flatMap(([p, ops]) => Object.keys(ops).filter((m) => m !== 'parameters')
      .map((m) => [m.toUpperCase(), p.replace(/\{[^}]+\}/g, 'x'), m === 'get' || m === 'delete' ? undefined : {}]));
  assert.ok(adminRoutes.length >= 12, JSON.stringify(adminRoutes));
  assert.ok(adminRoutes.some(([m, p]) => m === 'PUT' && p === '/admin/invoices/x'));
  for (const [method, p, body] of adminRoutes) {
    const anon = await rh.fetch(p, { method, body: body ? JSON.stringify(body) : undefined });
    assert.equal(anon.status, 401, `${method} ${p}`);
    const res = await mallory.req(method, p, body);
    assert.equal(res.status, 403, `${method} ${p}`);
    assert.equal(res.json.code, 'forbidden');
  }
  // The admin is also a tenant for their own relays.
  assert.equal((await admin.post('/tenant/relays', { subdomain: 'admins-own', name: 'A', plan: 'free' })).status, 201);
});

test('suspension applies at once, in zooid too; lifting restores exactly what it changed', async () => {
  const mk = async (subdomain) => (await alice.post('/tenant/relays', { subdomain, name: subdomain, plan: 'free' })).json;
  const r1 = await mk('susp-active');
  const r2 = await mk('susp-off');
  const r3 = await mk('susp-single');
  await alice.del(`/tenant/relays/${r2.id}`);            // the tenant's own deactivation
  const single = await admin.put(`/admin/relays/${r3.id}`, { status: 'suspended', reason: 'spam on this one' });
  assert.equal(single.status, 200, single.raw);
  assert.equal(single.json.suspended_by, 'admin');
  for (const r of [r1, r2, r3]) await until('synced', async () => (await alice.get(`/tenant/relays/${r.id}`)).json.sync.state === 'synced');

  const noReason = await admin.put(`/admin/tenants/${alice.pubkey}`, { status: 'suspended' });
  assert.equal(noReason.status, 400);
  assert.equal(noReason.json.field, 'reason');
  const s = await admin.put(`/admin/tenants/${alice.pubkey}`, { status: 'suspended', reason: 'abuse' });
  assert.equal(s.status, 200, s.raw);
  assert.equal(s.json.status, 'suspended');
  assert.equal(s.json.suspend_reason, 'abuse');
  // The tenant's very next write is refused; paying stays possible.
  const w = await alice.post('/tenant/relays', { subdomain: 'after-susp', name: 'x', plan: 'free' });
  assert.equal(w.status, 403);
  assert.equal(w.json.code, 'tenant-suspended');
  assert.equal((await alice.put(`/tenant/relays/${r1.id}`, { name: 'x' })).json.code, 'tenant-suspended');
  assert.equal((await alice.del(`/tenant/relays/${r1.id}`)).json.code, 'tenant-suspended');
  assert.equal((await alice.get('/tenant')).json.status, 'suspended');
  const statuses = async () => Object.fromEntries((await alice.get('/tenant/relays')).json.items.map((x) => [x.subdomain, x.status]));
  assert.deepEqual(await statuses(), { 'susp-active': 'suspended', 'susp-off': 'inactive', 'susp-single': 'suspended' });
  await until('zooid inactive', async () => zooid.configs.get(r1.id)?.inactive === true);
  assert.equal(zooid.configs.get(r2.id).inactive, true);
  assert.equal(zooid.configs.get(r3.id).inactive, true);

  // Suspending twice changes nothing (and writes no second audit row).
  const auditBefore = (await admin.get('/admin/audit?limit=500')).json.items.length;
  assert.equal((await admin.put(`/admin/tenants/${alice.pubkey}`, { status: 'suspended', reason: 'again' })).json.suspend_reason, 'abuse');
  assert.equal((await admin.get('/admin/audit?limit=500')).json.items.length, auditBefore);
  // An admin cannot activate a relay of a suspended tenant.
  assert.equal((await admin.put(`/admin/relays/${r1.id}`, { status: 'active' })).status, 409);

  const lift = await admin.put(`/admin/tenants/${npubEncode(alice.pubkey)}`, { status: 'active' });
  assert.equal(lift.status, 200, lift.raw);
  assert.deepEqual(await statuses(), { 'susp-active': 'active', 'susp-off': 'inactive', 'susp-single': 'suspended' });
  await until('zooid active again', async () => zooid.configs.get(r1.id).inactive === false);
  assert.equal(zooid.configs.get(r2.id).inactive, true);
  assert.equal(zooid.configs.get(r3.id).inactive, true);
  assert.equal((await alice.post('/tenant/relays', { subdomain: 'after-lift', name: 'x', plan: 'free' })).status, 201);

  const audit = (await admin.get('/admin/audit?limit=500')).json.items;
  const mine = audit.filter((a) => a.target_id === alice.pubkey);
  assert.deepEqual(mine.map((a) => a.action), ['tenant.suspend', 'tenant.unsuspend']);
  assert.equal(mine[0].admin, admin.pubkey);
  assert.equal(mine[0].reason, 'abuse');
  assert.equal(mine[0].before.status, 'active');
  assert.equal(mine[0].after.status, 'suspended');
  assert.deepEqual(mine[0].after.relays_changed, [r1.id]);
  assert.equal(typeof mine[0].at, 'number');
  const relayAudit = audit.find((a) => a.target_id === r3.id);
  assert.equal(relayAudit.action, 'relay.suspend');
  assert.equal(relayAudit.reason, 'spam on this one');
  assert.deepEqual(zooid.crashFlags, []);
});

test('admin reads: tenant detail, relay filters, 404s', async () => {
  const t = new Client(rh);
  const r = (await t.post('/tenant/relays', { subdomain: 'read-me', name: 'R', plan: 'basic' })).json;
  const d = await admin.get(`/admin/tenants/${t.pubkey}`);
  assert.equal(d.status, 200);
  assert.equal(d.json.pubkey, t.pubkey);
  assert.deepEqual(d.json.relays.map((x) => x.id), [r.id]);
  assert.deepEqual(d.json.invoices, []);
  assert.equal((await admin.get(`/admin/tenants/${getPublicKey(generateSecretKey())}`)).status, 404);
  assert.equal((await admin.put(`/admin/tenants/${getPublicKey(generateSecretKey())}`, { status: 'suspended', reason: 'x' })).status, 404);
  assert.equal((await admin.get('/admin/relays/nope')).status, 404);
  assert.equal((await admin.get(`/admin/relays/${r.id}`)).json.subdomain, 'read-me');
  const byTenant = await admin.get(`/admin/relays?tenant=${npubEncode(t.pubkey)}`);
  assert.deepEqual(byTenant.json.items.map((x) => x.id), [r.id]);
  const suspended = await admin.get('/admin/relays?status=suspended&limit=500');
  assert.ok(suspended.json.items.every((x) => x.status === 'suspended'));
  for (const q of ['status=gone', 'tenant=zzz', 'limit=0', 'cursor=bad']) {
    const res = await admin.get(`/admin/relays?${q}`);
    assert.equal(res.status, 400, q);
    assert.equal(res.json.field, q.split('=')[0]);
  }
  const upd = await admin.put(`/admin/relays/${r.id}`, { name: 'Renamed by admin', plan: 'free' });
  assert.equal(upd.json.name, 'Renamed by admin');
  assert.equal((await admin.put(`/admin/relays/${r.id}`, { status: 'delinquent' })).status, 403);
  assert.equal((await admin.put(`/admin/relays/${r.id}`, { bogus: 1 })).json.field, 'bogus');
  const del = await admin.del(`/admin/relays/${r.id}`);
  assert.equal(del.json.status, 'inactive');
  assert.equal((await t.get(`/tenant/relays/${r.id}`)).json.status, 'inactive');
});

test('pagination at scale: 10,000 tenants, every one exactly once, filters indexed', async () => {
  const own = await Relayhost.start({ env: { HOSTING_ADMIN_PUBKEYS: getPublicKey(adminSk) } });
  try {
    await own.stop();
    const db = path.join(own.dataDir, 'hosting.db');
    execFileSync('python3', ['-c', `
import sqlite3, sys, os
c = sqlite3.connect(sys.argv[1])
rows = [(os.urandom(32).hex(), 'suspended' if i % 10 == 0 else 'active', 'seed' if i % 10 == 0 else None, 1764000000 + i, 1764000000 + i) for i in range(10000)]
c.executemany("INSERT INTO tenants (pubkey, status, suspend_reason, created_at, updated_at) VALUES (?,?,?,?,?)", rows)
c.commit()
print(c.execute("EXPLAIN QUERY PLAN SELECT seq, pubkey FROM tenants WHERE seq > 0 AND status = 'suspended' ORDER BY seq LIMIT 51").fetchall())
`, db]);
    await own.restart();
    const a = new Client(own, adminSk);
    const seen = new Set();
    let cursor = null, pages = 0;
    do {
      const res = await a.get(`/admin/tenants?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      for (const t of res.json.items) seen.add(t.pubkey);
      cursor = res.json.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(seen.size, 10000);
    assert.equal(pages, 20);
    let suspended = 0;
    cursor = null;
    do {
      const res = await a.get(`/admin/tenants?status=suspended&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      for (const t of res.json.items) { assert.equal(t.status, 'suspended'); suspended++; }
      cursor = res.json.next_cursor;
    } while (cursor);
    assert.equal(suspended, 1000);
  } finally {
    await own.stop();
    own.cleanup();
  }
});

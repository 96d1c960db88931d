// Provisioning through the real binary against the zooid stand-in (as strict as
// zooid.md): the configs zooid ends up holding, the secret fixed at creation,
// zooid down during a create then back (synced without user action), restart
// reconciliation, and a burst of changes while zooid is slow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relayhost, tempDir } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { startZooid } from './lib/zooid_standin.mjs';

const RELAY_DOMAIN = 'spaces.test';
const platformSk = generateSecretKey();
const platformHex = Buffer.from(platformSk).toString('hex');
const platformPub = getPublicKey(platformSk);
const adminPub = getPublicKey(generateSecretKey());

async function setup({ timeoutSeconds = 2 } = {}) {
  const zooid = await startZooid({ whitelist: [platformPub] });  // a free port of its own
  const { port } = zooid;
  const env = {
    RELAY_DOMAIN,
    PLATFORM_SECRET: platformHex,
    ZOOID_API_URL: `http://127.0.0.1:${port}`,
    HOSTING_ADMIN_PUBKEYS: adminPub,
    ZOOID_RETRY_BASE_SECONDS: '1',
    ZOOID_RETRY_MAX_SECONDS: '2',
    ZOOID_RETRY_LIMIT: '3',
    ZOOID_TIMEOUT_SECONDS: String(timeoutSeconds),
  };
  return { zooid, env, port };
}

async function until(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const syncState = async (c, id) => (await c.get(`/tenant/relays/${id}`)).json.sync;

test('create, update, deactivate: zooid holds exactly the desired configs; the secret never changes', async () => {
  const { zooid, env } = await setup();
  const rh = await Relayhost.start({ env });
  try {
    assert.match(rh.output, new RegExp(`API_WHITELIST=${platformPub}`));
    const t = new Client(rh);
    const r = (await t.post('/tenant/relays', { subdomain: 'my-relay', name: 'Mine', plan: 'basic', description: 'd', icon: 'https://i.test/x.png' })).json;
    await until('synced', async () => (await syncState(t, r.id)).state === 'synced');
    let cfg = zooid.configs.get(r.id);
    assert.equal(cfg.host, `my-relay.${RELAY_DOMAIN}`);
    assert.equal(cfg.schema, 'my_relay');
    assert.equal(cfg.inactive, false);
    assert.deepEqual(cfg.info, { name: 'Mine', pubkey: t.pubkey, description: 'd', icon: 'https://i.test/x.png' });
    assert.deepEqual(cfg.policy, { public_join: false, strip_signatures: false });
    assert.deepEqual(cfg.blossom, { enabled: true });
    assert.deepEqual(cfg.groups, { enabled: true });
    assert.deepEqual(cfg.management, { enabled: true });
    assert.deepEqual(cfg.push, { enabled: true });
    assert.deepEqual(cfg.roles.admin, { pubkeys: [adminPub], can_invite: false, can_manage: true });
    const secret = cfg.secret;
    assert.match(secret, /^[0-9a-f]{64}$/);

    await t.put(`/tenant/relays/${r.id}`, { plan: 'free', name: 'Renamed', icon: null, policy: { public_join: true } });
    await until('patched', async () => zooid.configs.get(r.id).info.name === 'Renamed');
    await until('synced again', async () => (await syncState(t, r.id)).state === 'synced');
    cfg = zooid.configs.get(r.id);
    assert.deepEqual(cfg.blossom, { enabled: false });
    assert.equal(cfg.info.icon, undefined);
    assert.equal(cfg.policy.public_join, true);
    await t.del(`/tenant/relays/${r.id}`);
    await until('inactive', async () => zooid.configs.get(r.id).inactive === true);
    assert.equal(zooid.configs.get(r.id).secret, secret);

    const calls = zooid.calls.filter((c) => c.relayId === r.id);
    assert.equal(calls.filter((c) => c.method === 'POST').length, 1);
    for (const c of calls) {
      assert.equal(c.status < 300, true, JSON.stringify(c.response));
      assert.equal(c.hasPayloadTag, true);
      assert.equal(c.payloadMatches, true);
      if (c.method === 'PATCH') assert.equal(c.body.secret, undefined);
    }
    assert.deepEqual(zooid.crashFlags, []);
    assert.ok(!rh.output.includes(secret), 'a relay secret appeared in the log');
  } finally {
    await rh.stop();
    rh.cleanup();
    await zooid.stop();
  }
});

test('zooid down during a create: pending/failed with the error, then synced when it is back', async () => {
  const { zooid, env } = await setup();
  await zooid.stop();
  const rh = await Relayhost.start({ env: { ...env, ZOOID_RETRY_LIMIT: '2' } });
  try {
    const t = new Client(rh);
    const r = (await t.post('/tenant/relays', { subdomain: 'down-relay', name: 'D', plan: 'free' })).json;
    assert.equal(r.sync.state, 'pending');
    const failed = await until('failed', async () => {
      const s = await syncState(t, r.id);
      return s.state === 'failed' ? s : null;
    });
    assert.match(failed.error, /unreachable/);
    assert.ok(failed.attempts >= 2);
    assert.equal(typeof failed.last_attempt_at, 'number');
    const health = await (await rh.fetch('/healthz')).json();
    assert.equal(health.zooid, 'unreachable');
    // zooid comes back; relayhost reconciles at its next start without any user action.
    await zooid.restart();
    await rh.restart();
    await until('synced', async () => (await syncState(t, r.id)).state === 'synced');
    assert.equal(zooid.configs.get(r.id).host, `down-relay.${RELAY_DOMAIN}`);
    assert.equal((await (await rh.fetch('/healthz')).json()).zooid, 'ok');
  } finally {
    await rh.stop();
    rh.cleanup();
    await zooid.stop();
  }
});

test('a transient outage is retried with backoff until synced, without user action', async () => {
  const { zooid, env } = await setup();
  const rh = await Relayhost.start({ env: { ...env, ZOOID_RETRY_LIMIT: '6' } });
  try {
    zooid.setFailure({ status: 503, count: 2 });
    const t = new Client(rh);
    const r = (await t.post('/tenant/relays', { subdomain: 'flaky-relay', name: 'F', plan: 'free' })).json;
    const s = await until('synced', async () => {
      const x = await syncState(t, r.id);
      return x.state === 'synced' ? x : null;
    });
    assert.equal(s.attempts, 3);
    // Injected failures are answered before routing: count by path.
    assert.equal(zooid.calls.filter((c) => c.url === `/relay/${r.id}`).length, 3);
  } finally {
    await rh.stop();
    rh.cleanup();
    await zooid.stop();
  }
});

test('restart with unsynced relays: reconciled at start', async () => {
  const { zooid, env } = await setup();
  await zooid.stop();
  const dataDir = tempDir();
  let rh = await Relayhost.start({ env: { ...env, ZOOID_RETRY_BASE_SECONDS: '60', ZOOID_RETRY_MAX_SECONDS: '60' }, dataDir });
  const t = new Client(rh);
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await t.post('/tenant/relays', { subdomain: `recon-${i}`, name: `R${i}`, plan: 'free' })).json.id);
  await rh.stop('SIGKILL');
  await zooid.restart();
  rh = await Relayhost.start({ env, dataDir, port: rh.port });
  t.rh = rh;
  try {
    for (const id of ids) await until(`synced ${id}`, async () => (await syncState(t, id)).state === 'synced');
    assert.deepEqual([...zooid.configs.keys()].sort(), [...ids].sort());
  } finally {
    await rh.stop();
    rh.cleanup();
    await zooid.stop();
  }
});

test('a burst of 200 relay changes while zooid is slow: zooid ends equal to relayhost, no call lost or duplicated', async () => {
  // A generous timeout: this is about the latest state winning, not about calls
  // whose outcome is unknown (on a loaded machine a 2 s deadline can pass while
  // zooid still applies the call; that case has its own test below).
  const { zooid, env } = await setup({ timeoutSeconds: 30 });
  const rh = await Relayhost.start({ env });
  try {
    zooid.setFailure({ delayMs: 20 });
    const tenants = Array.from({ length: 5 }, () => new Client(rh));
    const relays = [];
    for (const [i, t] of tenants.entries()) {
      for (let k = 0; k < 8; k++) relays.push({ t, r: (await t.post('/tenant/relays', { subdomain: `burst-${i}-${k}`, name: 'n0', plan: 'free' })).json });
    }
    // 200 changes: 5 renames per relay, the 40 relays concurrently (one relay's
    // renames in order, each while its earlier ones are still being pushed: requests
    // sent at once on different connections may arrive in any order), plus some plan
    // changes and deactivations.
    const changes = relays.map(async ({ t, r }, j) => {
      const out = [];
      for (let round = 1; round <= 5; round++) {
        const body = { name: `n${round}` };
        if (round === 5 && j % 3 === 0) body.plan = 'basic';
        out.push(await t.put(`/tenant/relays/${r.id}`, body));
      }
      return out;
    });
    const results = (await Promise.all(changes)).flat();
    assert.equal(results.length, 200);
    for (const res of results) assert.equal(res.status, 200, res.raw);
    for (const { t, r } of relays.filter((_, j) => j % 4 === 0)) assert.equal((await t.del(`/tenant/relays/${r.id}`)).status, 200);
    for (const { t, r } of relays) await until(`synced ${r.id}`, async () => (await syncState(t, r.id)).state === 'synced', 60000);
    for (const [j, { t, r }] of relays.entries()) {
      const mine = (await t.get(`/tenant/relays/${r.id}`)).json;
      const cfg = zooid.configs.get(r.id);
      assert.equal(cfg.info.name, mine.name);
      assert.equal(cfg.info.name, 'n5');
      assert.equal(cfg.inactive, mine.status !== 'active');
      assert.equal(cfg.inactive, j % 4 === 0);
      assert.equal(cfg.blossom.enabled, mine.plan === 'basic');
    }
    // One POST per relay; never more PATCHes than changes made (no duplicates, no loops).
    for (const { r } of relays) {
      const calls = zooid.calls.filter((c) => c.relayId === r.id);
      assert.equal(calls.filter((c) => c.method === 'POST').length, 1);
      assert.ok(calls.filter((c) => c.method === 'PATCH').length <= 6);
      assert.ok(calls.every((c) => c.status >= 200 && c.status < 300));
    }
    assert.deepEqual(zooid.crashFlags, []);
  } finally {
    await rh.stop();
    rh.cleanup();
    await zooid.stop();
  }
});

test('a call that got no answer and lands late is overwritten by a confirmation push', async () => {
  const { zooid, env } = await setup();
  const rh = await Relayhost.start({ env: { ...env, ZOOID_RETRY_MAX_SECONDS: '4', ZOOID_RETRY_LIMIT: '6' } });
  try {
    const t = new Client(rh);
    const r = (await t.post('/tenant/relays', { subdomain: 'late-relay', name: 'n0', plan: 'free' })).json;
    await until('synced', async () => (await syncState(t, r.id)).state === 'synced');
    // zooid holds the next call for 3.5 s before applying it; relayhost gives up
    // after 2 s (ZOOID_TIMEOUT_SECONDS) and pushes again after its backoff.
    zooid.setFailure({ delayMs: 3500, count: 1 });
    const sent = Date.now();
    assert.equal((await t.put(`/tenant/relays/${r.id}`, { name: 'n1' })).status, 200);
    await until('synced after the retry', async () => {
      const s = await syncState(t, r.id);
      return s.state === 'synced' && s.attempts >= 2;
    });
    // A newer change, pushed and answered while the first call is still held.
    assert.equal((await t.put(`/tenant/relays/${r.id}`, { name: 'n2' })).status, 200);
    await until('n2 synced', async () => (await syncState(t, r.id)).state === 'synced');
    // The held call lands (n1 over n2 in zooid); the confirmation push at the end
    // of relayhost's window puts n2 back.
    await until('a push of n2 after the late call landed', async () =>
      zooid.calls.some((c) => c.relayId === r.id && c.method === 'PATCH' && c.body?.info?.name === 'n2' && c.time > sent + 3500), 20000);
    await until('zooid holds n2', async () => zooid.configs.get(r.id).info.name === 'n2', 5000);
    const mine = (await t.get(`/tenant/relays/${r.id}`)).json;
    assert.equal(mine.name, 'n2');
    assert.equal(mine.sync.state, 'synced');
    assert.deepEqual(zooid.crashFlags, []);
  } finally {
    await rh.stop();
    rh.cleanup();
    await zooid.stop();
  }
});

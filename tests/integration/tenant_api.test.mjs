// The tenant API of api.md through the real binary, every request signed by
// nostr-tools: each route, each validation error (which changes nothing), IDOR
// across tenants, durability across a restart and a kill -9 right after a write,
// and the NWC secret never appearing in a response or in the server's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { waitFor } from './lib/nostr_peer.mjs';

const RELAY_DOMAIN = 'spaces.test';
let rh, alice, bob;
before(async () => {
  rh = await Relayhost.start({ env: { RELAY_DOMAIN, LOG_LEVEL: 'debug', RESERVED_SUBDOMAINS: 'forbidden-name' } });
  alice = new Client(rh);
  bob = new Client(rh);
});
after(async () => { await rh.stop(); rh.cleanup(); });

// No zooid runs in these tests: a relay's sync fields move on their own (retries),
// so comparisons of whole relays leave them out.
const stable = ({ sync, ...rest }) => rest;
const relayBody = (subdomain, extra = {}) => ({ subdomain, name: `Relay ${subdomain}`, plan: 'free', ...extra });

test('GET /tenant creates the tenant on first call', async () => {
  const t = new Client(rh);
  const a = await t.get('/tenant');
  assert.equal(a.status, 200, a.raw);
  assert.equal(a.json.pubkey, t.pubkey);
  assert.equal(a.json.status, 'active');
  assert.equal(typeof a.json.created_at, 'number');
  assert.deepEqual(a.json.billing, { nwc_connected: false, wallet_pubkey: null, nwc_status: null, anchor: null, balance_due_sats: 0 });
  const b = await t.get('/tenant');
  assert.equal(b.json.created_at, a.json.created_at);
});

test('relay lifecycle: create, read, list, update, deactivate', async () => {
  const c = await alice.post('/tenant/relays', relayBody('life-cycle', { description: 'désc ✓', icon: 'https://x.test/i.png', policy: { public_join: true } }));
  assert.equal(c.status, 201, c.raw);
  const r = c.json;
  assert.match(r.id, /^[0-9a-f]{32}$/);
  assert.equal(r.tenant, alice.pubkey);
  assert.equal(r.host, `life-cycle.${RELAY_DOMAIN}`);
  assert.equal(r.url, `wss://life-cycle.${RELAY_DOMAIN}`);
  assert.equal(r.description, 'désc ✓');
  assert.deepEqual(r.policy, { public_join: true, strip_signatures: false });
  assert.equal(r.status, 'active');
  assert.deepEqual(r.sync, { state: 'pending', error: null, attempts: 0, last_attempt_at: null });
  assert.deepEqual(Object.keys(r).sort(), ['created_at', 'description', 'host', 'icon', 'id', 'name', 'plan', 'policy',
    'status', 'subdomain', 'sync', 'tenant', 'updated_at', 'url']);

  assert.deepEqual(stable((await alice.get(`/tenant/relays/${r.id}`)).json), stable(r));
  const list = await alice.get('/tenant/relays');
  assert.equal(list.status, 200);
  assert.ok(list.json.items.some((x) => x.id === r.id));
  assert.equal(list.json.next_cursor, null);

  const u = await alice.put(`/tenant/relays/${r.id}`, { name: 'Renamed', plan: 'basic', icon: null });
  assert.equal(u.status, 200, u.raw);
  assert.equal(u.json.name, 'Renamed');
  assert.equal(u.json.plan, 'basic');
  assert.equal(u.json.icon, null);
  // A paid plan on an active relay anchors billing.
  assert.equal(typeof (await alice.get('/tenant')).json.billing.anchor, 'number');

  const d = await alice.del(`/tenant/relays/${r.id}`);
  assert.equal(d.status, 200);
  assert.equal(d.json.status, 'inactive');
  const again = await alice.del(`/tenant/relays/${r.id}`);
  assert.equal(again.status, 200);
  assert.equal(again.json.status, 'inactive');
  const on = await alice.put(`/tenant/relays/${r.id}`, { status: 'active' });
  assert.equal(on.json.status, 'active');
});

test('every validation error is a clear 400 and changes nothing', async () => {
  const before = (await alice.get('/tenant/relays?limit=500')).json.items.length;
  const cases = [
    [relayBody('ab'), 'subdomain'],
    [relayBody('Upper-case'), 'subdomain'],
    [relayBody('9starts-with-digit'), 'subdomain'],
    [relayBody('ends-with-dash-'), 'subdomain'],
    [relayBody('under_score'), 'subdomain'],
    [relayBody('x'.repeat(64)), 'subdomain'],
    [relayBody('www'), 'subdomain'],
    [relayBody('billing'), 'subdomain'],
    [relayBody('forbidden-name'), 'subdomain'],
    [relayBody('good-name', { name: '' }), 'name'],
    [relayBody('good-name', { name: 'n'.repeat(65) }), 'name'],
    [relayBody('good-name', { plan: 'platinum' }), 'plan'],
    [relayBody('good-name', { description: 'd'.repeat(501) }), 'description'],
    [relayBody('good-name', { icon: 'ftp://x/y' }), 'icon'],
    [relayBody('good-name', { policy: { public_join: 1 } }), 'policy.public_join'],
    [relayBody('good-name', { policy: { typo: true } }), 'policy.typo'],
    [relayBody('good-name', { suspended: true }), 'suspended'],
    [{ name: 'no subdomain', plan: 'free' }, 'subdomain'],
  ];
  for (const [body, field] of cases) {
    const res = await alice.post('/tenant/relays', body);
    assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.raw}`);
    assert.equal(res.json.code, 'invalid-field');
    assert.equal(res.json.field, field, JSON.stringify(body));
    assert.ok(res.json.error.length > 0);
  }
  // 64 code points of emoji is a valid name (limits count characters, not bytes).
  const emoji = await alice.post('/tenant/relays', relayBody('emoji-name', { name: '🚀'.repeat(64) }));
  assert.equal(emoji.status, 201, emoji.raw);
  const broken = await alice.req('POST', '/tenant/relays', undefined, { headers: {} });
  assert.equal(broken.status, 400);
  assert.equal(broken.json.code, 'invalid-json');
  const after = (await alice.get('/tenant/relays?limit=500')).json.items.length;
  assert.equal(after, before + 1);
});

test('tenant writes that are not allowed', async () => {
  const r = (await alice.post('/tenant/relays', relayBody('rules-relay'))).json;
  const cases = [
    [{ subdomain: 'other-name' }, 400, 'invalid-field'],
    [{ status: 'suspended' }, 403, 'forbidden'],
    [{ status: 'delinquent' }, 403, 'forbidden'],
    [{ id: 'x' }, 400, 'invalid-field'],
    [{ plan: 'nope' }, 400, 'invalid-field'],
  ];
  for (const [body, status, code] of cases) {
    const res = await alice.put(`/tenant/relays/${r.id}`, body);
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(res.json.code, code);
  }
  assert.deepEqual(stable((await alice.get(`/tenant/relays/${r.id}`)).json), stable(r));
  const taken = await bob.post('/tenant/relays', relayBody('rules-relay'));
  assert.equal(taken.status, 409);
  assert.equal(taken.json.code, 'conflict');
});

test("another tenant's relay is 404 on every route (no IDOR)", async () => {
  const r = (await alice.post('/tenant/relays', relayBody('private-relay'))).json;
  for (const res of [await bob.get(`/tenant/relays/${r.id}`), await bob.put(`/tenant/relays/${r.id}`, { name: 'pwned' }),
    await bob.del(`/tenant/relays/${r.id}`), await bob.get('/tenant/relays/00000000000000000000000000000000')]) {
    assert.equal(res.status, 404);
    assert.equal(res.json.code, 'not-found');
  }
  assert.ok(!(await bob.get('/tenant/relays')).json.items.some((x) => x.id === r.id));
  const still = (await alice.get(`/tenant/relays/${r.id}`)).json;
  assert.equal(still.name, r.name);
  assert.equal(still.status, 'active');
});

test('pagination: opaque cursors walk every relay once, in creation order', async () => {
  const t = new Client(rh);
  const made = [];
  for (let i = 0; i < 7; i++) made.push((await t.post('/tenant/relays', relayBody(`page-${i}-${t.pubkey.slice(0, 8)}`))).json.id);
  const seen = [];
  let cursor = null;
  do {
    const res = await t.get(`/tenant/relays?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200);
    assert.ok(res.json.items.length <= 3);
    seen.push(...res.json.items.map((x) => x.id));
    cursor = res.json.next_cursor;
  } while (cursor);
  assert.deepEqual(seen, made);
  for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=-1', 'cursor=garbage']) {
    const res = await t.get(`/tenant/relays?${q}`);
    assert.equal(res.status, 400, q);
    assert.equal(res.json.code, 'invalid-field');
    assert.equal(res.json.field, q.split('=')[0]);
  }
  const inv = await t.get('/tenant/invoices');
  assert.deepEqual(inv.json, { items: [], next_cursor: null });
});

test('the NWC URI and its secret never appear in a response or in the server output', async () => {
  const wallet = getPublicKey(generateSecretKey());
  const secret = Buffer.from(generateSecretKey()).toString('hex');
  const uri = `nostr+walletconnect://${wallet}?relay=wss%3A%2F%2Frelay.test&secret=${secret}&lud16=me%40x.test`;
  const t = new Client(rh);
  const bad = await t.put('/tenant/billing', { nwc_url: uri.replace('relay=', 'rel=') });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.field, 'nwc_url');
  assert.ok(!bad.raw.includes(secret));
  const res = await t.put('/tenant/billing', { nwc_url: uri });
  assert.equal(res.status, 200, res.raw);
  assert.equal(res.json.billing.nwc_connected, true);
  assert.equal(res.json.billing.wallet_pubkey, wallet);
  assert.equal(res.json.billing.nwc_status, 'unverified');
  const responses = [bad, res, await t.get('/tenant')];
  for (const r of responses.slice(1)) {
    assert.ok(!r.raw.includes(secret));
    assert.ok(!r.raw.includes('walletconnect'));
  }
  // The log is checked once each request's own line (written after its response) is in it,
  // not after a guessed 200 ms.
  const ids = responses.map((r) => r.headers.get('x-request-id'));
  assert.ok(ids.every(Boolean), 'every response has an X-Request-Id');
  await waitFor(() => ids.every((id) => rh.hasRequestLog(id)), { timeoutMs: 5000, what: 'the requests\' log lines' });
  assert.ok(!rh.output.includes(secret), 'the NWC secret appeared in the server output');
  assert.ok(!rh.output.includes('walletconnect'), 'the NWC URI appeared in the server output');
  const off = await t.put('/tenant/billing', { nwc_url: null });
  assert.equal(off.json.billing.nwc_connected, false);
  assert.equal(off.json.billing.wallet_pubkey, null);
});

test('a restart and a kill -9 right after a write lose nothing', async () => {
  const own = await Relayhost.start({ env: { RELAY_DOMAIN } });
  try {
    const t = new Client(own);
    const made = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.post('/tenant/relays', relayBody(`durable-${i}-${t.pubkey.slice(0, 6)}`));
      assert.equal(res.status, 201);
      made.push(res.json);
    }
    await own.restart('SIGTERM');
    assert.deepEqual((await t.get('/tenant/relays')).json.items.map(stable), made.map(stable));
    const last = await t.post('/tenant/relays', relayBody(`durable-k-${t.pubkey.slice(0, 6)}`));
    assert.equal(last.status, 201);
    made.push(last.json);
    await own.restart('SIGKILL');
    assert.deepEqual((await t.get('/tenant/relays')).json.items.map(stable), made.map(stable));
  } finally {
    await own.stop();
    own.cleanup();
  }
});

test('concurrent first requests of a new tenant create it once', async () => {
  const t = new Client(rh);
  const results = await Promise.all([
    t.get('/tenant'),
    ...Array.from({ length: 8 }, (_, i) => t.post('/tenant/relays', relayBody(`burst-${i}-${t.pubkey.slice(0, 8)}`))),
  ]);
  assert.equal(results[0].status, 200);
  for (const r of results.slice(1)) assert.equal(r.status, 201, r.raw);
  assert.equal((await t.get('/tenant/relays')).json.items.length, 8);
});

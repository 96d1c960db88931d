// The billing test clock through the real binary (api.md "Test clock"): absent
// (404, not in OpenAPI) without BILLING_TEST_CLOCK=1; with it, admins move it
// forward by seconds or to a time, never back; every bad body is a 400 that moves
// nothing; non-admins are refused; each move is audited; the offset survives
// kill -9; relay activity is stamped on the billing clock, NIP-98 stays real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';

const platformSk = generateSecretKey();
const adminSk = generateSecretKey();
const env = (extra = {}) => ({
  PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'),
  ZOOID_API_URL: 'http://127.0.0.1:1',
  RELAY_DOMAIN: 'spaces.test',
  HOSTING_ADMIN_PUBKEYS: getPublicKey(adminSk),
  ...extra,
});
const realNow = () => Math.floor(Date.now() / 1000);
const DAY = 86400;

let rh;
before(async () => { rh = await Relayhost.start({ env: env({ BILLING_TEST_CLOCK: '1' }) }); });
after(async () => { await rh?.stop(); rh?.cleanup(); });

test('without BILLING_TEST_CLOCK the clock routes do not exist and OpenAPI does not list them', async () => {
  const off = await Relayhost.start({ env: env() });
  try {
    const admin = new Client(off, adminSk);
    assert.equal((await admin.get('/admin/clock')).status, 404);
    const moved = await admin.post('/admin/clock', { advance_seconds: DAY });
    assert.equal(moved.status, 404);
    const spec = await (await off.fetch('/openapi.json')).json();
    assert.equal(spec.paths['/admin/clock'], undefined);
  } finally {
    await off.stop();
    off.cleanup();
  }
  const spec = await (await rh.fetch('/openapi.json')).json();
  assert.deepEqual(Object.keys(spec.paths['/admin/clock']).filter((k) => k !== 'parameters').sort(), ['get', 'post']);
});

test('an admin moves the clock forward by seconds and to a time; it keeps running', async () => {
  const admin = new Client(rh, adminSk);
  const start = (await admin.get('/admin/clock')).json;
  assert.ok(Math.abs(start.real_now - realNow()) <= 2);
  assert.ok(start.now >= start.real_now);
  const offset0 = start.now - start.real_now;

  const a = await admin.post('/admin/clock', { advance_seconds: 10 * DAY });
  assert.equal(a.status, 200, a.raw);
  assert.ok(Math.abs(a.json.now - a.json.real_now - (offset0 + 10 * DAY)) <= 2, JSON.stringify(a.json));

  const target = a.json.now + 40 * DAY;
  const b = await admin.post('/admin/clock', { now: target });
  assert.equal(b.status, 200, b.raw);
  assert.ok(b.json.now >= target && b.json.now <= target + 2);
  const zero = await admin.post('/admin/clock', { advance_seconds: 0 });
  assert.equal(zero.status, 200);
  assert.ok(zero.json.now >= target);

  // It keeps running with the real clock.
  await new Promise((r) => setTimeout(r, 1100));
  const later = (await admin.get('/admin/clock')).json;
  assert.ok(later.now > b.json.now - 1 && later.now - later.real_now === b.json.now - b.json.real_now,
    JSON.stringify({ later, b: b.json }));

  const audit = (await admin.get('/admin/audit?limit=500')).json.items.filter((e) => e.action === 'clock.move');
  assert.equal(audit.length, 3);
  assert.equal(audit[0].admin, getPublicKey(adminSk));
  assert.equal(audit[0].target_type, 'clock');
});

test('a move back, and every malformed body, is a 400 that moves nothing', async () => {
  const admin = new Client(rh, adminSk);
  const before = (await admin.get('/admin/clock')).json;
  const offset = before.now - before.real_now;
  const cases = [
    [{ now: before.now - 3600 }, 'invalid-field', 'now'],
    [{ now: 0 }, 'invalid-field', 'now'],
    [{ advance_seconds: -1 }, 'invalid-field', 'advance_seconds'],
    [{ advance_seconds: 1.5 }, 'invalid-field', 'advance_seconds'],
    [{ advance_seconds: '60' }, 'invalid-field', 'advance_seconds'],
    [{ advance_seconds: true }, 'invalid-field', 'advance_seconds'],
    [{ advance_seconds: null }, 'invalid-field', 'advance_seconds'],
    [{ advance_seconds: 1e12 }, 'invalid-field', 'advance_seconds'],
    [{ now: 'tomorrow' }, 'invalid-field', 'now'],
    [{ advance_seconds: 60, now: before.now + 60 }, 'invalid-field', 'now'],
    [{}, 'invalid-field', 'advance_seconds'],
    [{ advance_seconds: 60, speed: 2 }, 'invalid-field', 'speed'],
    [[60], 'invalid-json', undefined],
    ['advance', 'invalid-json', undefined],
  ];
  for (const [body, code, field] of cases) {
    const res = await admin.post('/admin/clock', body);
    assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.raw}`);
    assert.equal(res.json.code, code, JSON.stringify(body));
    assert.equal(res.json.field, field, JSON.stringify(body));
    assert.ok(res.json.error.length > 0);
  }
  const empty = await admin.req('POST', '/admin/clock', undefined);
  assert.equal(empty.status, 400);
  assert.equal(empty.json.code, 'invalid-json');
  const back = await admin.post('/admin/clock', { now: before.now - 3600 });
  assert.match(back.json.error, /never goes backwards/);
  const afterwards = (await admin.get('/admin/clock')).json;
  assert.equal(afterwards.now - afterwards.real_now, offset, 'nothing moved');
});

test('non-admins cannot read or move the clock', async () => {
  const mallory = new Client(rh);
  for (const [method, body] of [['GET'], ['POST', { advance_seconds: DAY }]]) {
    const res = await mallory.req(method, '/admin/clock', body);
    assert.equal(res.status, 403, `${method}: ${res.raw}`);
    assert.equal(res.json.code, 'forbidden');
    const anon = await rh.fetch('/admin/clock', { method, body: body ? JSON.stringify(body) : undefined });
    assert.equal(anon.status, 401);
  }
});

test('the offset survives kill -9; relay activity is on the billing clock while NIP-98 stays on the real one', async () => {
  const admin = new Client(rh, adminSk);
  const moved = await admin.post('/admin/clock', { advance_seconds: 100 * DAY });
  assert.equal(moved.status, 200);
  const offset = moved.json.now - moved.json.real_now;
  await rh.restart('SIGKILL');
  const after = (await admin.get('/admin/clock')).json;  // a token signed on the real clock is accepted
  assert.equal(after.now - after.real_now, offset);
  assert.ok(rh.output.includes('billing test clock on'));

  const tenant = new Client(rh);
  const created = await tenant.post('/tenant/relays', { subdomain: 'on-the-clock', name: 'Clocked', plan: 'basic' });
  assert.equal(created.status, 201, created.raw);
  assert.ok(Math.abs(created.json.created_at - (realNow() + offset)) <= 5,
    `created_at ${created.json.created_at} is on the billing clock (offset ${offset})`);
});

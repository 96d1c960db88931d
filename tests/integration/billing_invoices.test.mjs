// Monthly invoices through the real binary (issue 14): the billing test clock, a
// zooid stand-in, relays the test starts (@nostr-relay/core) and the platform
// wallet as @getalby/sdk's wallet service over a fake Lightning ledger. A tenant
// lives through three months of changes (anchor on the 31st, a 28-day February,
// an upgrade, a downgrade, a deactivation and reactivation, an admin suspension,
// a relay that lives one hour) and gets exactly the invoices of the table below,
// computed by hand, each with a bolt11 the wallet made for exactly that amount,
// and one "invoice issued" DM per invoice on its kind-10050 relay only. kill -9
// right after a period closes and again after its DM: still one invoice, one DM.
// Then the admin invoice routes and their bad inputs, each changing nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import * as nip17 from 'nostr-tools/nip17';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { startZooid } from './lib/zooid_standin.mjs';
import { startRelay } from './lib/test_relays.mjs';
import { publishTo, inboxListEvent, waitFor } from './lib/nostr_peer.mjs';
import { Ledger, startWallet } from './lib/nwc_wallets.mjs';

const DAY = 86400;
// 2027-01-31 00:00:00 UTC: the anchor (the first paid relay is created right after
// the clock is set here, within a second or two: amounts below are chosen so that
// such a drift cannot change any ceil).
const A = 1801353600;
// Periods from an anchor on the 31st: Jan 31 → Feb 28 (28 days), Feb 28 → Mar 31
// (31 days), Mar 31 → Apr 30 (30 days).
const P1 = 1803772800; // 2027-02-28
const P2 = 1806451200; // 2027-03-31
const P3 = 1809043200; // 2027-04-30

// Prices (sats/month): basic 5000, growth 25000, free 0.
// Period 0 (2,419,200 s):
//   alpha: basic 867,600 s, then growth 1,551,600 s:
//          (5000·867600 + 25000·1551600) / 2419200 = 17827.38 → 17828 (rounded once)
//   beta:  created at +20 d, basic 691,200 s: 5000·691200/2419200 = 1428.57 → 1429
// Period 1 (2,678,400 s):
//   alpha: growth, off from +5 d to +15 d (tenant), suspended +20 d to +25 d (admin):
//          active 432,000 + 432,000 + 518,400 = 1,382,400 s: 25000·1382400/2678400 = 12903.23 → 12904
//   beta:  basic until +10 d, then free: 5000·864000/2678400 = 1612.90 → 1613; active
//          (on any plan) all month but the suspension: 2,246,400 s = 624 h
// Period 2 (2,592,000 s):
//   alpha: growth all month: 25000
//   gamma: basic, created at +29 d 23 h and deactivated an hour later: 5000·3600/2592000 = 6.94 → 7
//   beta:  free all month: no item; freebie (free since creation): never an item
const EXPECTED = [
  { period_start: A, amount: 17828 + 1429, items: { alpha: [17828, 'growth', 672], beta: [1429, 'basic', 192] } },
  { period_start: P1, amount: 12904 + 1613, items: { alpha: [12904, 'growth', 384], beta: [1613, 'free', 624] } },
  { period_start: P2, amount: 25000 + 7, items: { alpha: [25000, 'growth', 720], gamma: [7, 'basic', 1] } },
];

const platformSk = generateSecretKey();
const adminSk = generateSecretKey();
let zooid, zooidPort;
const relays = [];

before(async () => {
  zooid = await startZooid({ whitelist: [getPublicKey(platformSk)] });  // a free port of its own
  zooidPort = zooid.port;
});
after(async () => {
  for (const r of relays) await r.stop().catch(() => {});
  await zooid.stop();
});

async function relay() {
  const r = await startRelay();
  relays.push(r);
  return r;
}

function envFor(indexer, walletUri, extra = {}) {
  return {
    PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'),
    ZOOID_API_URL: `http://127.0.0.1:${zooidPort}`,
    HOSTING_ADMIN_PUBKEYS: getPublicKey(adminSk),
    RELAY_DOMAIN: 'spaces.test',
    PLATFORM_NAME: 'Spaces Test',
    NOSTR_INDEXER_RELAYS: indexer.url,
    NWC_URL: walletUri,
    BILLING_TEST_CLOCK: '1',
    BILLING_TICK_SECONDS: '1',
    // Invoicing alone: no grace ends during these months (collection has its own tests).
    BILLING_GRACE_DAYS: '365',
    RELAY_TIMEOUT_SECONDS: '3',
    NWC_TIMEOUT_SECONDS: '5',
    OUTBOX_RETRY_SECONDS: '1',
    ...extra,
  };
}

const issuedDms = (r, sk) => r.events()
  .filter((e) => e.kind === 1059 && e.tags.some((t) => t[0] === 'p' && t[1] === getPublicKey(sk)))
  .map((wrap) => ({ wrap, rumor: nip17.unwrapEvent(wrap, sk) }))
  .filter((d) => /your invoice for relay hosting/.test(d.rumor.content));

async function setClock(admin, now) {
  const res = await admin.post('/admin/clock', { now });
  assert.equal(res.status, 200, res.raw);
}

async function invoices(tenant) {
  const res = await tenant.get('/tenant/invoices?limit=100');
  assert.equal(res.status, 200, res.raw);
  return res.json.items;
}

async function ok(res, status = 200) {
  assert.equal(res.status, status, res.raw);
  return res.json;
}

test('three months of changes: exactly the hand-computed invoices, each with its bolt11 and one DM on the inbox relay; kill -9 changes nothing', async () => {
  const indexer = await relay();
  const inbox = await relay();
  const walletRelay = await relay();
  const ledger = new Ledger();
  const wallet = await startWallet({ relayUrl: walletRelay.url, ledger, methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
  const tenantSk = generateSecretKey();
  await publishTo(indexer.url, inboxListEvent(tenantSk, [inbox.url]));

  const rh = await Relayhost.start({ env: envFor(indexer, wallet.uri) });
  try {
    const admin = new Client(rh, adminSk);
    const tenant = new Client(rh, tenantSk);
    await waitFor(() => /billing enabled/.test(rh.output), { timeoutMs: 15000, what: 'billing enabled' });

    await setClock(admin, A);
    const alpha = await ok(await tenant.post('/tenant/relays', { subdomain: 'alpha', name: 'alpha', plan: 'basic' }), 201);
    await ok(await tenant.post('/tenant/relays', { subdomain: 'freebie', name: 'freebie', plan: 'free' }), 201);
    const anchor = (await ok(await tenant.get('/tenant'))).billing.anchor;
    assert.ok(anchor >= A && anchor < A + 30, `anchor ${anchor}`);

    // Period 0.
    await setClock(admin, A + 10 * DAY + 3600);
    await ok(await tenant.put(`/tenant/relays/${alpha.id}`, { plan: 'growth' }));
    await setClock(admin, A + 20 * DAY);
    const beta = await ok(await tenant.post('/tenant/relays', { subdomain: 'beta', name: 'beta', plan: 'basic' }), 201);
    assert.deepEqual(await invoices(tenant), [], 'nothing is billed before the period ends');

    // Period 1: its changes happen after period 0 closed (and was invoiced).
    await setClock(admin, P1 + 60);
    await waitFor(async () => (await invoices(tenant)).length === 1, { timeoutMs: 10000, what: 'invoice of period 0' });
    await setClock(admin, P1 + 5 * DAY);
    await ok(await tenant.del(`/tenant/relays/${alpha.id}`));
    await setClock(admin, P1 + 10 * DAY);
    await ok(await tenant.put(`/tenant/relays/${beta.id}`, { plan: 'free' }));
    await setClock(admin, P1 + 15 * DAY);
    await ok(await tenant.put(`/tenant/relays/${alpha.id}`, { status: 'active' }));
    await setClock(admin, P1 + 20 * DAY);
    await ok(await admin.put(`/admin/tenants/${tenant.pubkey}`, { status: 'suspended', reason: 'chargeback review' }));
    await setClock(admin, P1 + 25 * DAY);
    await ok(await admin.put(`/admin/tenants/${tenant.pubkey}`, { status: 'active' }));

    // Period 2.
    await setClock(admin, P2 + 60);
    await waitFor(async () => (await invoices(tenant)).length === 2, { timeoutMs: 10000, what: 'invoice of period 1' });
    await setClock(admin, P2 + 29 * DAY + 23 * 3600);
    const gamma = await ok(await tenant.post('/tenant/relays', { subdomain: 'gamma', name: 'gamma', plan: 'basic' }), 201);
    await setClock(admin, P2 + 29 * DAY + 24 * 3600);
    await ok(await tenant.del(`/tenant/relays/${gamma.id}`));

    // The third period closes; kill -9 the moment its invoice is there.
    await setClock(admin, P3 + 60);
    await waitFor(async () => (await invoices(tenant)).length === 3, { timeoutMs: 10000, what: 'invoice of period 2' });
    await rh.restart('SIGKILL');

    // Every invoice gets its bolt11 and its DM (also the one the kill may have cut short).
    await waitFor(async () => (await invoices(tenant)).every((i) => i.bolt11), { timeoutMs: 20000, what: 'bolt11s' });
    await waitFor(() => issuedDms(inbox, tenantSk).length >= 3, { timeoutMs: 20000, what: 'three DMs' });
    await rh.restart('SIGKILL');  // after the DMs
    await new Promise((r) => setTimeout(r, 3000));  // three ticks of the restarted scheduler

    const list = (await invoices(tenant)).reverse();  // oldest first
    assert.equal(list.length, 3, JSON.stringify(list));
    const byName = { [alpha.id]: 'alpha', [beta.id]: 'beta', [gamma.id]: 'gamma' };
    list.forEach((inv, k) => {
      const want = EXPECTED[k];
      assert.equal(inv.status, 'open');
      assert.ok(inv.period_start >= want.period_start && inv.period_start < want.period_start + 30, `period ${k}`);
      assert.equal(inv.amount_sats, want.amount, `period ${k} amount: ${JSON.stringify(inv.items)}`);
      const items = Object.fromEntries(inv.items.map((i) => [byName[i.relay_id], [i.amount_sats, i.plan]]));
      assert.deepEqual(items, Object.fromEntries(Object.entries(want.items).map(([n, [a, p]]) => [n, [a, p]])),
        `period ${k} items`);
      // active_hours = ceil(active seconds / 3600): the clock runs between a move and
      // the change it times, so a stretch may be a second or two off the hour.
      for (const i of inv.items)
        assert.ok(Math.abs(i.active_hours - want.items[byName[i.relay_id]][2]) <= 1, `period ${k} hours ${i.active_hours}`);
      // The bolt11 is the wallet's, for exactly the amount, naming the platform and period.
      const tx = ledger.lookup({ payment_hash: inv.payment_hash });
      assert.ok(tx, `period ${k}: the wallet made this bolt11`);
      assert.equal(tx.invoice, inv.bolt11);
      assert.equal(tx.amount, want.amount * 1000);
      assert.match(tx.description, /^Spaces Test relay hosting, 2027-/);
    });
    assert.deepEqual(list[0].items.find((i) => i.relay_id === alpha.id).segments.map((s) => s.plan), ['basic', 'growth']);

    // One DM per invoice, each naming its amount, period and the bolt11 the wallet
    // made first (the clock's month-long jumps expired and renewed earlier ones since:
    // the invoice shows the current one), on the inbox relay only.
    const dms = issuedDms(inbox, tenantSk);
    assert.equal(dms.length, 3, dms.map((d) => d.rumor.content).join('\n---\n'));
    for (const inv of list) {
      const day = new Date(inv.period_start * 1000).toISOString().slice(0, 10);
      const mine = dms.filter((d) => d.rumor.content.includes(`from ${day} to `) &&
                                     d.rumor.content.includes(` is ${inv.amount_sats} sats`));
      assert.equal(mine.length, 1, `one DM for the invoice of ${day}`);
      const bolt11 = mine[0].rumor.content.split('\n\n')[1];
      const tx = [...ledger.invoices.values()].map((e) => e.tx).find((t) => t.invoice === bolt11);
      assert.ok(tx, `the DM's bolt11 ${bolt11} is the wallet's`);
      assert.equal(tx.amount, inv.amount_sats * 1000);
    }
    assert.equal(issuedDms(indexer, tenantSk).length, 0, 'not on the indexer');
    assert.equal(issuedDms(walletRelay, tenantSk).length, 0, 'not on other relays');

    const t = await ok(await tenant.get('/tenant'));
    assert.equal(t.billing.anchor, anchor);
    assert.equal(t.billing.balance_due_sats, EXPECTED.reduce((s, e) => s + e.amount, 0));

    // The clock continued after the restarts.
    const clock = await ok(await admin.get('/admin/clock'));
    assert.ok(clock.now >= P3 + 60, JSON.stringify(clock));
  } finally {
    await rh.stop();
    wallet.stop();
    rh.cleanup();
  }
});

test('admin invoice routes: paid and void only from open, audited; bad inputs are clear errors that change nothing', async () => {
  const indexer = await relay();
  const walletRelay = await relay();
  const ledger = new Ledger();
  const wallet = await startWallet({ relayUrl: walletRelay.url, ledger, methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
  const rh = await Relayhost.start({ env: envFor(indexer, wallet.uri) });
  try {
    const admin = new Client(rh, adminSk);
    const tenant = new Client(rh);
    const other = new Client(rh);
    await waitFor(() => /billing enabled/.test(rh.output), { timeoutMs: 15000, what: 'billing enabled' });
    const start = (await ok(await admin.get('/admin/clock'))).now;
    await ok(await tenant.post('/tenant/relays', { subdomain: 'paying', name: 'p', plan: 'basic' }), 201);
    await ok(await other.post('/tenant/relays', { subdomain: 'other', name: 'o', plan: 'growth' }), 201);
    // Two months later (two periods close whatever the months: 31 + 31 < 63 < 31 + 31 + 28)
    // both tenants have two invoices each.
    await setClock(admin, start + 63 * DAY);
    await waitFor(async () => (await invoices(tenant)).length === 2 && (await invoices(other)).length === 2,
      { timeoutMs: 10000, what: 'invoices' });
    await waitFor(async () => (await invoices(tenant)).every((i) => i.bolt11), { timeoutMs: 10000, what: 'bolt11s' });
    const [second, first] = await invoices(tenant);

    const all = await ok(await admin.get('/admin/invoices?limit=10'));
    assert.equal(all.items.length, 4);
    assert.deepEqual((await ok(await admin.get(`/admin/invoices?tenant=${tenant.pubkey}`))).items.map((i) => i.id),
      [first.id, second.id], 'creation order');
    const page1 = await ok(await admin.get('/admin/invoices?limit=3'));
    const page2 = await ok(await admin.get(`/admin/invoices?limit=3&cursor=${page1.next_cursor}`));
    assert.equal(page1.items.length + page2.items.length, 4);
    assert.equal(page2.next_cursor, null);

    const before = await ok(await admin.get(`/admin/tenants/${tenant.pubkey}`));
    assert.equal(before.invoices.length, 2);
    const audits = async () => (await ok(await admin.get('/admin/audit?limit=100'))).items.filter((a) => a.target_type === 'invoice');

    // Bad inputs: each a clear error, nothing changes.
    const bad = [
      [`/admin/invoices/${first.id}`, { status: 'paid' }, 400, 'invalid-field', 'reason'],
      [`/admin/invoices/${first.id}`, { status: 'open', reason: 'x' }, 400, 'invalid-field', 'status'],
      [`/admin/invoices/${first.id}`, { status: 'paid', reason: '' }, 400, 'invalid-field', 'reason'],
      [`/admin/invoices/${first.id}`, { status: 'paid', reason: 'x', amount_sats: 1 }, 400, 'invalid-field', 'amount_sats'],
      [`/admin/invoices/${first.id}`, ['paid'], 400, 'invalid-json', undefined],
      ['/admin/invoices/no-such-invoice', { status: 'void', reason: 'x' }, 404, 'not-found', undefined],
    ];
    for (const [path, body, status, code, field] of bad) {
      const res = await admin.put(path, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.raw}`);
      assert.equal(res.json.code, code);
      if (field) assert.equal(res.json.field, field);
    }
    const notAdmin = await tenant.put(`/admin/invoices/${first.id}`, { status: 'paid', reason: 'me' });
    assert.equal(notAdmin.status, 403);
    assert.equal((await admin.get('/admin/invoices?status=bogus')).status, 400);
    assert.deepEqual(await invoices(tenant), [second, first], 'nothing changed');
    assert.equal((await audits()).length, 0);

    const paid = await ok(await admin.put(`/admin/invoices/${first.id}`, { status: 'paid', reason: 'paid by bank transfer' }));
    assert.equal(paid.status, 'paid');
    assert.equal(paid.paid_via, 'admin');
    assert.equal(paid.status_reason, 'paid by bank transfer');
    const voided = await ok(await admin.put(`/admin/invoices/${second.id}`, { status: 'void', reason: 'goodwill' }));
    assert.equal(voided.status, 'void');
    assert.ok(voided.voided_at > 0);

    // Only from open: a void of a paid invoice (and the reverse) is 409, nothing changes.
    for (const [id, status] of [[first.id, 'void'], [second.id, 'paid'], [first.id, 'paid']]) {
      const res = await admin.put(`/admin/invoices/${id}`, { status, reason: 'again' });
      assert.equal(res.status, 409, res.raw);
      assert.equal(res.json.code, 'conflict');
      assert.match(res.json.error, /the invoice is (paid|void)/);
    }
    const after = await invoices(tenant);
    assert.deepEqual(after.map((i) => i.status), ['void', 'paid']);
    assert.equal((await ok(await tenant.get('/tenant'))).billing.balance_due_sats, 0);
    assert.equal((await ok(await other.get('/tenant'))).billing.balance_due_sats,
      (await invoices(other)).reduce((s, i) => s + i.amount_sats, 0), 'the other tenant is untouched');
    const trail = await audits();
    assert.deepEqual(trail.map((a) => [a.action, a.target_id, a.reason]),
      [['invoice.paid', first.id, 'paid by bank transfer'], ['invoice.void', second.id, 'goodwill']]);
    assert.equal(trail[0].before.status, 'open');
    assert.equal(trail[0].after.status, 'paid');

    // Metrics: invoices created and bolt11s issued by the billing passes.
    const text = await (await fetch(`http://127.0.0.1:${rh.metricsPort}/metrics`)).text();
    assert.match(text, /relayhost_billing_events_total\{event="invoice_created"\} 4/);
    assert.match(text, /relayhost_billing_passes_total \d+/);
  } finally {
    await rh.stop();
    wallet.stop();
    rh.cleanup();
  }
});

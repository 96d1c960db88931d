// Collecting invoices through the real binary (issue 15), with the billing test
// clock, a zooid stand-in, a loopback relay and @getalby/sdk's wallet service on
// both sides of one fake Lightning ledger (the platform wallet makes and looks up
// invoices; tenants' wallets pay them). Every test counts the pay_invoice requests
// each tenant wallet received: autopay pays each invoice exactly once over nip44
// and over a NIP-04-only wallet; kill -9 at every step of a collection, then one
// pay_invoice per bolt11 and the invoice paid once; INSUFFICIENT_BALANCE is a DM
// naming it and one retry per NWC_PAY_RETRY_HOURS; a bolt11 paid by hand (also an
// old, replaced one) is credited; grace → delinquent → paid brings back exactly the
// relays delinquency switched off, in zooid too; suspension and delinquency compose.
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
const HOUR = 3600;
const platformSk = generateSecretKey();
const adminSk = generateSecretKey();
let zooid, zooidPort, relay;
const wallets = [];

before(async () => {
  zooid = await startZooid({ whitelist: [getPublicKey(platformSk)] });  // a free port of its own
  zooidPort = zooid.port;
  relay = await startRelay();
});
after(async () => {
  for (const w of wallets) w.stop();
  await relay.stop();
  await zooid.stop();
});

async function wallet(opts) {
  const w = await startWallet({ relayUrl: relay.url, ...opts });
  wallets.push(w);
  return w;
}

async function platform(ledger) {
  return wallet({ ledger, methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
}

function envFor(platformWallet, extra = {}) {
  return {
    PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'),
    ZOOID_API_URL: `http://127.0.0.1:${zooidPort}`,
    HOSTING_ADMIN_PUBKEYS: getPublicKey(adminSk),
    RELAY_DOMAIN: 'spaces.test',
    PLATFORM_NAME: 'Spaces Test',
    NOSTR_INDEXER_RELAYS: relay.url,
    NWC_URL: platformWallet.uri,
    BILLING_TEST_CLOCK: '1',
    BILLING_TICK_SECONDS: '1',
    PAYMENT_CHECK_SECONDS: '1',
    RELAY_TIMEOUT_SECONDS: '3',
    NWC_TIMEOUT_SECONDS: '4',
    OUTBOX_RETRY_SECONDS: '1',
    ...extra,
  };
}

async function ok(res, status = 200) {
  assert.equal(res.status, status, res.raw);
  return res.json;
}

const pays = (w) => w.calls.filter((c) => c.method === 'pay_invoice');

async function invoices(tenant) {
  return (await ok(await tenant.get('/tenant/invoices?limit=100'))).items;
}

function dms(sk, pattern) {
  const pk = getPublicKey(sk);
  return relay.events()
    .filter((e) => e.kind === 1059 && e.tags.some((t) => t[0] === 'p' && t[1] === pk))
    .map((wrap) => nip17.unwrapEvent(wrap, sk).content)
    .filter((text) => pattern.test(text));
}

/// A tenant with an inbox list on the test relay (its DMs land there).
async function newTenant(rh) {
  const sk = generateSecretKey();
  await publishTo(relay.url, inboxListEvent(sk, [relay.url]));
  return new Client(rh, sk);
}

async function connectWallet(tenant, w) {
  await ok(await tenant.put('/tenant/billing', { nwc_url: w.uri }));
  await waitFor(async () => (await ok(await tenant.get('/tenant'))).billing.nwc_status === 'ok',
    { timeoutMs: 15000, what: 'wallet ok' });
}

async function start(env) {
  const rh = await Relayhost.start({ env });
  await waitFor(() => /billing enabled/.test(rh.output), { timeoutMs: 15000, what: 'billing enabled' });
  return rh;
}

/// A pay_invoice hook (startWallet's beforePay/afterPay) that holds the payment until the
/// test calls release(); `arrived` turns true when a pay_invoice got to it.
function holdPayment() {
  let release;
  const released = new Promise((r) => { release = r; });
  const hold = {
    arrived: false,
    release,
    hook: async () => {
      hold.arrived = true;
      await released;
    },
  };
  return hold;
}

async function advance(admin, seconds) {
  await ok(await admin.post('/admin/clock', { advance_seconds: seconds }));
}

/// One paid relay, then its first period closes (32 days later, whatever the month).
async function firstInvoice(rh, admin, tenant, plan = 'basic') {
  await ok(await tenant.post('/tenant/relays', { subdomain: `r${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`, name: 'r', plan }), 201);
  await advance(admin, 32 * DAY);
  await waitFor(async () => (await invoices(tenant)).some((i) => i.bolt11), { timeoutMs: 15000, what: 'invoice with bolt11' });
  return (await invoices(tenant))[0];
}

for (const encryption of ['nip44', 'nip04']) {
  test(`autopay pays each invoice exactly once (${encryption} wallet)`, async () => {
    const ledger = new Ledger();
    const p = await platform(ledger);
    const tenantWallet = await wallet({ ledger, encryption, balanceMsat: 100_000_000 });
    const rh = await start(envFor(p));
    try {
      const admin = new Client(rh, adminSk);
      const tenant = await newTenant(rh);
      await connectWallet(tenant, tenantWallet);
      const inv = await firstInvoice(rh, admin, tenant);
      await waitFor(async () => (await invoices(tenant))[0].status === 'paid', { timeoutMs: 20000, what: 'paid' });
      // A second month: a second invoice, a second payment.
      await advance(admin, 31 * DAY);
      await waitFor(async () => (await invoices(tenant)).length === 2 && (await invoices(tenant)).every((i) => i.status === 'paid'),
        { timeoutMs: 20000, what: 'second invoice paid' });
      // The notices travel on their own (inbox lookup, gift wrap, publish): wait for them, then
      // let passes keep running: nothing more is paid or sent.
      await waitFor(() => dms(tenant.sk, /payment received/).length >= 2, { timeoutMs: 15000, what: 'two payment notices' });
      await new Promise((r) => setTimeout(r, 2500));
      const list = await invoices(tenant);
      assert.equal(pays(tenantWallet).length, 2, JSON.stringify(pays(tenantWallet)));
      assert.deepEqual(pays(tenantWallet).map((c) => c.params.invoice).sort(), list.map((i) => i.bolt11).sort());
      for (const i of list) {
        assert.equal(i.paid_via, 'lightning');
        assert.equal(ledger.lookup({ payment_hash: i.payment_hash }).state, 'settled');
      }
      assert.equal(list[1].id, inv.id);
      assert.equal(dms(tenant.sk, /payment received/).length, 2);
      assert.equal(dms(tenant.sk, /your invoice for relay hosting/).length, 0, 'no "pay by hand" DM with a wallet');
      assert.equal((await ok(await tenant.get('/tenant'))).billing.balance_due_sats, 0);
    } finally {
      await rh.stop();
      rh.cleanup();
    }
  });
}

// kill -9 at every step of a collection; after the restart exactly one pay_invoice
// per bolt11 and the invoice paid once.
const steps = [
  { name: 'before the attempt record', fault: 'collect.before_attempt', retryAfterDay: false },
  { name: 'after the attempt record, before pay_invoice', fault: 'collect.after_attempt', retryAfterDay: true },
  { name: 'after pay_invoice was sent', onPay: 'before_settle', retryAfterDay: false },
  { name: 'after the wallet settled, before its reply', onPay: 'after_settle', retryAfterDay: false },
  { name: 'after paid was written', fault: 'collect.after_paid', retryAfterDay: false },
];
for (const step of steps) {
  test(`kill -9 ${step.name}: one pay_invoice, paid once`, async () => {
    const ledger = new Ledger();
    const p = await platform(ledger);
    // The wallet holds a payment before settling it, or after settling and before
    // answering, until the test has killed relayhost: the kill lands in between for sure.
    const hold = holdPayment();
    const tenantWallet = await wallet({
      ledger, balanceMsat: 100_000_000,
      beforePay: step.onPay === 'before_settle' ? hold.hook : undefined,
      afterPay: step.onPay === 'after_settle' ? hold.hook : undefined,
    });
    const settled = () => [...ledger.invoices.values()].some((e) => e.tx.state === 'settled');
    const env = envFor(p, step.fault ? { RELAYHOST_FAULT: step.fault } : {});
    const rh = await start(env);
    try {
      const admin = new Client(rh, adminSk);
      const tenant = await newTenant(rh);
      await connectWallet(tenant, tenantWallet);
      await ok(await tenant.post('/tenant/relays', { subdomain: 'killed', name: 'k', plan: 'basic' }), 201);
      await advance(admin, 32 * DAY);
      if (step.fault) {
        await waitFor(() => rh.exited !== null, { timeoutMs: 20000, what: `the fault at ${step.fault}` });
        assert.equal(rh.exited.signal, 'SIGKILL');
        delete rh.env.RELAYHOST_FAULT;
      } else {
        // pay_invoice reached the wallet, which holds it (before paying, or paid and not
        // answered yet): kill now, then let the wallet go on while relayhost is down.
        await waitFor(() => hold.arrived, { timeoutMs: 20000, what: 'pay_invoice at the wallet' });
        assert.equal(pays(tenantWallet).length, 1);
        await rh.stop('SIGKILL');
        if (step.onPay === 'before_settle') {
          assert.equal(settled(), false, 'killed before the wallet paid');
          hold.release();
          await waitFor(settled, { timeoutMs: 5000, what: 'settled at the wallet after the kill' });
        } else {
          assert.equal(settled(), true, 'killed after the wallet paid, before its answer');
          hold.release();
        }
      }
      await rh.restart();
      if (step.retryAfterDay) {
        // The attempt may have been sent (relayhost cannot know): lookup_invoice says
        // not settled, so it is failed, and the next attempt waits the full spacing.
        await new Promise((r) => setTimeout(r, 3000));
        assert.equal(pays(tenantWallet).length, 0, 'nothing sent within the spacing');
        assert.equal((await invoices(tenant))[0].status, 'open');
        await advance(admin, 24 * HOUR + 60);
      }
      await waitFor(async () => (await invoices(tenant))[0]?.status === 'paid', { timeoutMs: 30000, what: 'paid' });
      await waitFor(() => dms(tenant.sk, /payment received/).length >= 1, { timeoutMs: 15000, what: 'the payment notice' });
      await new Promise((r) => setTimeout(r, 2500));
      const list = await invoices(tenant);
      assert.equal(list.length, 1);
      assert.equal(list[0].status, 'paid');
      assert.equal(pays(tenantWallet).length, 1, `one pay_invoice: ${JSON.stringify(pays(tenantWallet).map((c) => c.params))}`);
      assert.equal(pays(tenantWallet)[0].params.invoice, list[0].bolt11);
      assert.equal(dms(tenant.sk, /payment received/).length, 1, 'one payment notice');
      assert.equal(ledger.balances.get(tenantWallet.walletPk), 100_000_000 - list[0].amount_sats * 1000, 'charged once');
    } finally {
      hold.release();
      await rh.stop();
      rh.cleanup();
    }
  });
}

test('a pay_invoice that timed out but went through is found by lookup_invoice: no second pay_invoice', async () => {
  const ledger = new Ledger();
  const p = await platform(ledger);
  // Pays at once and holds its answer until relayhost's NWC_TIMEOUT_SECONDS (4) ran out
  // (it logged the outcome unknown), then answers: a late answer, whatever the machine's speed.
  const hold = holdPayment();
  const slow = await wallet({ ledger, balanceMsat: 100_000_000, afterPay: hold.hook });
  const rh = await start(envFor(p));
  try {
    const admin = new Client(rh, adminSk);
    const tenant = await newTenant(rh);
    await connectWallet(tenant, slow);
    await firstInvoice(rh, admin, tenant);
    await waitFor(() => hold.arrived, { timeoutMs: 20000, what: 'pay_invoice at the wallet' });
    await waitFor(() => /automatic payment outcome unknown/.test(rh.output), { timeoutMs: 20000, what: 'the timeout' });
    hold.release();
    await waitFor(async () => (await invoices(tenant))[0].status === 'paid', { timeoutMs: 30000, what: 'paid' });
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(pays(slow).length, 1);
    assert.equal(ledger.balances.get(slow.walletPk), 100_000_000 - (await invoices(tenant))[0].amount_sats * 1000);
  } finally {
    hold.release();
    await rh.stop();
    rh.cleanup();
  }
});

test('a failed attempt waits the default 24 h: none at 23 h, one after 24 h', async () => {
  const ledger = new Ledger();
  const p = await platform(ledger);
  const poor = await wallet({ ledger, balanceMsat: 0 });
  const rh = await start(envFor(p));
  try {
    const admin = new Client(rh, adminSk);
    const tenant = await newTenant(rh);
    await connectWallet(tenant, poor);
    await firstInvoice(rh, admin, tenant);
    await waitFor(() => pays(poor).length === 1, { timeoutMs: 20000, what: 'first attempt' });
    await waitFor(() => dms(tenant.sk, /next automatic attempt is in 24 h/).length === 1, { timeoutMs: 20000, what: 'DM' });
    await advance(admin, 23 * HOUR);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(pays(poor).length, 1, 'no retry within 24 h');
    await advance(admin, HOUR + 60);
    await waitFor(() => pays(poor).length === 2, { timeoutMs: 20000, what: 'the retry' });
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(pays(poor).length, 2, 'exactly one retry');
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('INSUFFICIENT_BALANCE: a DM naming it, no retry within NWC_PAY_RETRY_HOURS, one after; then paid', async () => {
  const ledger = new Ledger();
  const p = await platform(ledger);
  const poor = await wallet({ ledger, balanceMsat: 0 });
  const rh = await start(envFor(p, { NWC_PAY_RETRY_HOURS: '2' }));
  try {
    const admin = new Client(rh, adminSk);
    const tenant = await newTenant(rh);
    await connectWallet(tenant, poor);
    await firstInvoice(rh, admin, tenant);
    await waitFor(() => pays(poor).length === 1, { timeoutMs: 20000, what: 'first attempt' });
    await waitFor(() => dms(tenant.sk, /automatic payment .* failed/).length === 1, { timeoutMs: 20000, what: 'failure DM' });
    const [text] = dms(tenant.sk, /automatic payment .* failed/);
    assert.match(text, /INSUFFICIENT_BALANCE/);
    assert.match(text, /Top up/);
    assert.match(text, /next automatic attempt is in 2 h/);
    await advance(admin, HOUR + 50 * 60);  // 1 h 50 min: within the spacing
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(pays(poor).length, 1, 'no retry within 2 h');
    ledger.balances.set(poor.walletPk, 100_000_000);  // the tenant tops up
    await advance(admin, 15 * 60);
    await waitFor(async () => (await invoices(tenant))[0].status === 'paid', { timeoutMs: 20000, what: 'paid after the retry' });
    assert.equal(pays(poor).length, 2);
    assert.equal(dms(tenant.sk, /automatic payment .* failed/).length, 1);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('a bolt11 paid by hand is credited, also an old replaced one; saving a wallet collects at once', async () => {
  const ledger = new Ledger();
  const p = await platform(ledger);
  const payer = await wallet({ ledger, balanceMsat: 100_000_000 });
  const rh = await start(envFor(p, { INVOICE_EXPIRY_SECONDS: '7200' }));
  try {
    const admin = new Client(rh, adminSk);
    const byHand = await newTenant(rh);
    const inv = await firstInvoice(rh, admin, byHand);
    assert.equal(ledger.pay(payer.walletPk, inv.bolt11).code, undefined);
    await waitFor(async () => (await invoices(byHand))[0].status === 'paid', { timeoutMs: 15000, what: 'credited' });
    await waitFor(() => dms(byHand.sk, /payment received/).length === 1, { timeoutMs: 15000, what: 'payment DM' });

    // The old bolt11 of a renewed invoice still counts.
    const late = await newTenant(rh);
    const first = await firstInvoice(rh, admin, late);
    await advance(admin, 3 * HOUR);  // past the 2 h lifetime on the billing clock: renewed
    await waitFor(async () => (await invoices(late))[0].bolt11 !== first.bolt11, { timeoutMs: 15000, what: 'renewed' });
    assert.equal(ledger.pay(payer.walletPk, first.bolt11).code, undefined, 'the old one is still payable in the ledger');
    await waitFor(async () => (await invoices(late))[0].status === 'paid', { timeoutMs: 15000, what: 'old bolt11 credited' });

    // A tenant without a wallet, then one saved: its open invoice is paid at once,
    // even while suspended (and it stays suspended).
    const saver = await newTenant(rh);
    await firstInvoice(rh, admin, saver);
    await ok(await admin.put(`/admin/tenants/${saver.pubkey}`, { status: 'suspended', reason: 'review' }));
    const w = await wallet({ ledger, balanceMsat: 100_000_000 });
    await connectWallet(saver, w);
    await waitFor(async () => (await invoices(saver))[0].status === 'paid', { timeoutMs: 15000, what: 'collected on save' });
    assert.equal(pays(w).length, 1);
    assert.equal((await ok(await saver.get('/tenant'))).status, 'suspended');
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('grace then delinquency then payment: exactly the delinquent relays return, in zooid too; suspension composes', async () => {
  const ledger = new Ledger();
  const p = await platform(ledger);
  const payer = await wallet({ ledger, balanceMsat: 100_000_000 });
  const rh = await start(envFor(p, { BILLING_GRACE_DAYS: '7', INVOICE_EXPIRY_SECONDS: String(30 * DAY) }));
  try {
    const admin = new Client(rh, adminSk);
    const tenant = await newTenant(rh);
    const paid = await ok(await tenant.post('/tenant/relays', { subdomain: 'paidone', name: 'p', plan: 'basic' }), 201);
    const off = await ok(await tenant.post('/tenant/relays', { subdomain: 'offone', name: 'o', plan: 'growth' }), 201);
    const free = await ok(await tenant.post('/tenant/relays', { subdomain: 'freeone', name: 'f', plan: 'free' }), 201);
    await ok(await tenant.del(`/tenant/relays/${off.id}`));
    await advance(admin, 32 * DAY);
    await waitFor(async () => (await invoices(tenant)).some((i) => i.bolt11), { timeoutMs: 15000, what: 'invoice' });
    const inv = (await invoices(tenant))[0];
    const statuses = async () => Object.fromEntries((await ok(await tenant.get('/tenant/relays'))).items.map((r) => [r.subdomain, r.status]));

    await advance(admin, 5 * DAY + HOUR);  // 48 h before the end of grace (7 days after issue)
    await waitFor(() => dms(tenant.sk, /grace period ends/).length === 1, { timeoutMs: 15000, what: 'grace warning' });
    assert.deepEqual(await statuses(), { paidone: 'active', offone: 'inactive', freeone: 'active' });

    await advance(admin, 2 * DAY);
    await waitFor(async () => (await statuses()).paidone === 'delinquent', { timeoutMs: 15000, what: 'delinquent' });
    assert.deepEqual(await statuses(), { paidone: 'delinquent', offone: 'inactive', freeone: 'active' });
    await waitFor(() => zooid.configs.get(paid.id)?.inactive === true, { timeoutMs: 15000, what: 'zooid off' });
    assert.equal(zooid.configs.get(free.id).inactive, false);
    await waitFor(() => dms(tenant.sk, /past its grace period/).length === 1, { timeoutMs: 15000, what: 'delinquency DM' });
    const [dm] = dms(tenant.sk, /past its grace period/);
    assert.match(dm, /paidone/);
    assert.doesNotMatch(dm, /freeone|offone/);
    // The tenant cannot switch it back on; only paying does.
    assert.equal((await tenant.put(`/tenant/relays/${paid.id}`, { status: 'active' })).status, 403);

    // Suspended and lifted while delinquent: the paid relay is delinquent, the free one active.
    await ok(await admin.put(`/admin/tenants/${tenant.pubkey}`, { status: 'suspended', reason: 'abuse report' }));
    assert.deepEqual(await statuses(), { paidone: 'delinquent', offone: 'inactive', freeone: 'suspended' });
    await ok(await admin.put(`/admin/tenants/${tenant.pubkey}`, { status: 'active' }));
    assert.deepEqual(await statuses(), { paidone: 'delinquent', offone: 'inactive', freeone: 'active' });

    assert.equal(ledger.pay(payer.walletPk, inv.bolt11).code, undefined);
    await waitFor(async () => (await statuses()).paidone === 'active', { timeoutMs: 15000, what: 'reactivated' });
    assert.deepEqual(await statuses(), { paidone: 'active', offone: 'inactive', freeone: 'active' });
    await waitFor(() => zooid.configs.get(paid.id)?.inactive === false, { timeoutMs: 15000, what: 'zooid on' });
    assert.equal(zooid.configs.get(off.id).inactive, true);
    await waitFor(() => dms(tenant.sk, /running again: paidone/).length === 1, { timeoutMs: 15000, what: 'reactivated DM' });
    assert.equal((await invoices(tenant))[0].status, 'paid');
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('a suspension lifted after grace ended brings paid relays back delinquent and free ones active', async () => {
  const ledger = new Ledger();
  const p = await platform(ledger);
  const rh = await start(envFor(p, { BILLING_GRACE_DAYS: '3', INVOICE_EXPIRY_SECONDS: String(30 * DAY) }));
  try {
    const admin = new Client(rh, adminSk);
    const tenant = await newTenant(rh);
    await ok(await tenant.post('/tenant/relays', { subdomain: 'paidtwo', name: 'p', plan: 'basic' }), 201);
    await ok(await tenant.post('/tenant/relays', { subdomain: 'freetwo', name: 'f', plan: 'free' }), 201);
    await advance(admin, 32 * DAY);
    await waitFor(async () => (await invoices(tenant)).some((i) => i.bolt11), { timeoutMs: 15000, what: 'invoice' });
    await ok(await admin.put(`/admin/tenants/${tenant.pubkey}`, { status: 'suspended', reason: 'review' }));
    await advance(admin, 4 * DAY);  // grace ends while suspended: nothing active to switch off
    // The scheduler's grace pass marks the tenant delinquent (logged even with no relay to
    // switch off); lifting the suspension before that would bring paidtwo back active.
    await waitFor(() => rh.output.split('\n').some((l) => l.includes('grace period over: paid relays delinquent') && l.includes(tenant.pubkey)),
      { timeoutMs: 15000, what: 'grace over' });
    await ok(await admin.put(`/admin/tenants/${tenant.pubkey}`, { status: 'active' }));
    const items = (await ok(await tenant.get('/tenant/relays'))).items;
    assert.deepEqual(Object.fromEntries(items.map((r) => [r.subdomain, r.status])), { paidtwo: 'delinquent', freetwo: 'active' });
    // An admin's "paid" counts as a payment.
    const inv = (await invoices(tenant))[0];
    await ok(await admin.put(`/admin/invoices/${inv.id}`, { status: 'paid', reason: 'paid in cash' }));
    const after = (await ok(await tenant.get('/tenant/relays'))).items;
    assert.deepEqual(Object.fromEntries(after.map((r) => [r.subdomain, r.status])), { paidtwo: 'active', freetwo: 'active' });
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

// Three months of upgrades, a downgrade, delinquency, a payment by hand, autopay and
// a suspension. By hand (anchor 2027-01-31, periods of 28, 31 and 30 days; growth
// 25000, basic 5000 sats/month):
//   period 0: basic 867,600 s then growth 1,551,600 s: 17827.38 → 17828 (paid by hand)
//   period 1: growth, delinquent from 3 days after the invoice (+3 d 2 min) until the
//             payment (+5 d): 25000 · (2678400 − 2 d + ~120 s) / 2678400 = 23388.2 → 23389
//   period 2: growth 10 d, basic 5 d, suspended 5 d, basic 10 d:
//             (25000·864000 + 5000·1296000) / 2592000 = 10833.33 → 10834
// Periods 1 and 2 are paid by autopay, each exactly once.
const A = 1801353600, P1 = 1803772800, P2 = 1806451200, P3 = 1809043200;

test('three months with delinquency, a payment by hand, autopay and a suspension: hand-computed amounts, each collected once', async () => {
  const ledger = new Ledger();
  const p = await platform(ledger);
  const payer = await wallet({ ledger, balanceMsat: 100_000_000 });
  const rh = await start(envFor(p, { BILLING_GRACE_DAYS: '3', INVOICE_EXPIRY_SECONDS: String(30 * DAY) }));
  try {
    const admin = new Client(rh, adminSk);
    const tenant = await newTenant(rh);
    const setClock = async (now) => ok(await admin.post('/admin/clock', { now }));
    const status = async (id) => (await ok(await tenant.get(`/tenant/relays/${id}`))).status;

    await setClock(A);
    const alpha = await ok(await tenant.post('/tenant/relays', { subdomain: 'alphathree', name: 'a', plan: 'basic' }), 201);
    const freebie = await ok(await tenant.post('/tenant/relays', { subdomain: 'freethree', name: 'f', plan: 'free' }), 201);
    await setClock(A + 10 * DAY + HOUR);
    await ok(await tenant.put(`/tenant/relays/${alpha.id}`, { plan: 'growth' }));

    await setClock(P1 + 60);
    await waitFor(async () => (await invoices(tenant))[0]?.bolt11, { timeoutMs: 15000, what: 'invoice 0' });
    const inv0 = (await invoices(tenant))[0];
    await setClock(P1 + 3 * DAY + 120);
    await waitFor(async () => (await status(alpha.id)) === 'delinquent', { timeoutMs: 15000, what: 'delinquent' });
    await waitFor(() => zooid.configs.get(alpha.id)?.inactive === true, { timeoutMs: 15000, what: 'zooid off' });
    assert.equal(await status(freebie.id), 'active');
    await setClock(P1 + 5 * DAY);
    assert.equal(ledger.pay(payer.walletPk, inv0.bolt11).code, undefined);
    await waitFor(async () => (await status(alpha.id)) === 'active', { timeoutMs: 15000, what: 'back on' });
    await waitFor(() => zooid.configs.get(alpha.id)?.inactive === false, { timeoutMs: 15000, what: 'zooid on' });
    const w = await wallet({ ledger, balanceMsat: 100_000_000 });
    await connectWallet(tenant, w);

    await setClock(P2 + 60);
    await waitFor(async () => (await invoices(tenant)).length === 2 && (await invoices(tenant))[0].status === 'paid',
      { timeoutMs: 20000, what: 'invoice 1 autopaid' });
    await setClock(P2 + 10 * DAY);
    await ok(await tenant.put(`/tenant/relays/${alpha.id}`, { plan: 'basic' }));
    await setClock(P2 + 15 * DAY);
    await ok(await admin.put(`/admin/tenants/${tenant.pubkey}`, { status: 'suspended', reason: 'review' }));
    await setClock(P2 + 20 * DAY);
    await ok(await admin.put(`/admin/tenants/${tenant.pubkey}`, { status: 'active' }));
    await setClock(P3 + 60);
    await waitFor(async () => (await invoices(tenant)).length === 3 && (await invoices(tenant))[0].status === 'paid',
      { timeoutMs: 20000, what: 'invoice 2 autopaid' });
    await waitFor(() => dms(tenant.sk, /payment received/).length >= 3, { timeoutMs: 15000, what: 'three payment notices' });
    await new Promise((r) => setTimeout(r, 2500));

    const list = (await invoices(tenant)).reverse();
    assert.deepEqual(list.map((i) => i.amount_sats), [17828, 23389, 10834]);
    assert.deepEqual(list.map((i) => [i.status, i.paid_via]), [['paid', 'lightning'], ['paid', 'lightning'], ['paid', 'lightning']]);
    assert.equal(pays(payer).length, 0, 'period 0 was paid by hand');
    assert.deepEqual(pays(w).map((c) => c.params.invoice), [list[1].bolt11, list[2].bolt11], 'each autopaid once');
    assert.equal(ledger.balances.get(w.walletPk), 100_000_000 - (23389 + 10834) * 1000);
    assert.equal(await status(alpha.id), 'active');
    assert.equal(await status(freebie.id), 'active');
    assert.equal(zooid.configs.get(alpha.id).inactive, false);
    assert.equal(zooid.configs.get(freebie.id).inactive, false);
    assert.equal(dms(tenant.sk, /payment received/).length, 3);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

// kill -9 at random points while money moves, over and over (issue 16): three
// tenants with paid relays (two pay automatically through their own wallets, one
// nip44 and one NIP-04 only, both slow to answer so a kill often lands mid-payment;
// one pays by hand), the billing clock jumps a month per round, and at a random
// moment of the invoicing and collecting that follows relayhost is killed and
// restarted. At the end, with every invoice paid: one invoice per tenant and
// period, and every closed month billed unless the tenant's paid relays were off
// all of it for an unpaid invoice past grace; the fake Lightning ledger settled exactly one payment per invoice and
// moved exactly the invoiced sats from each payer to the platform (nobody charged
// twice, no payment lost); one "payment received" DM per invoice; no relay left
// delinquent, in relayhost or in zooid. BILLING_CRASH_ROUNDS (default 8) rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import * as nip17 from 'nostr-tools/nip17';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { startZooid } from './lib/zooid_standin.mjs';
import { startRelay } from './lib/test_relays.mjs';
import { publishTo, inboxListEvent, waitFor } from './lib/nostr_peer.mjs';
import { Ledger, startWallet } from './lib/nwc_wallets.mjs';

const ROUNDS = Number(process.env.BILLING_CRASH_ROUNDS ?? 8);
const DAY = 86400;
const START_MSAT = 1_000_000_000;
const HAND = 'hand-payer';  // the by-hand tenant's own wallet, as a ledger account

// The months [start, end) from `anchor` that ended by `now`, computed here (not by
// relayhost): UTC calendar months, a day the month lacks becoming its last day.
function monthsClosed(anchor, now) {
  const a = new Date(anchor * 1000);
  const start = (k) => {
    const y = a.getUTCFullYear(), m = a.getUTCMonth() + k;
    const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    return Date.UTC(y, m, Math.min(a.getUTCDate(), last), a.getUTCHours(), a.getUTCMinutes(), a.getUTCSeconds()) / 1000;
  };
  const out = [];
  for (let k = 0; start(k + 1) <= now; k++) out.push([start(k), start(k + 1)]);
  return out;
}

// An invoice past its grace before `from` and paid only at or after `to`: the
// tenant's paid relays were delinquent the whole month, which then costs nothing.
function whollyDelinquent(invoices, from, to) {
  return invoices.some((i) => i.due_at <= from && i.paid_at !== null && i.paid_at >= to);
}

test(`kill -9 at random points of billing and collection, ${ROUNDS} times: every invoice paid exactly once`, async () => {
  const platformSk = generateSecretKey();
  const adminSk = generateSecretKey();
  const zooid = await startZooid({ whitelist: [getPublicKey(platformSk)] });  // a free port of its own
  const zooidPort = zooid.port;
  const relay = await startRelay();
  const ledger = new Ledger();
  ledger.balances.set(HAND, START_MSAT);
  // Lightning runs on the billing clock here: a bolt11 expires for the payer when it
  // expires for relayhost (with real expiry, an old bolt11 would stay payable for a
  // day after the test clock jumped past it, which real time never allows).
  let offset = 0;
  ledger.now = () => Math.floor(Date.now() / 1000) + offset;
  const advance = async (seconds) => {
    await ok(await admin().post('/admin/clock', { advance_seconds: seconds }));
    offset += seconds;
  };
  const wallets = [];
  const wallet = async (opts) => {
    const w = await startWallet({ relayUrl: relay.url, ledger, ...opts });
    wallets.push(w);
    return w;
  };
  const platform = await wallet({ methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
  const rh = await Relayhost.start({
    env: {
      PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'),
      ZOOID_API_URL: `http://127.0.0.1:${zooidPort}`,
      ZOOID_RETRY_BASE_SECONDS: '1',
      ZOOID_RETRY_MAX_SECONDS: '2',
      HOSTING_ADMIN_PUBKEYS: getPublicKey(adminSk),
      RELAY_DOMAIN: 'spaces.test',
      NOSTR_INDEXER_RELAYS: relay.url,
      NWC_URL: platform.uri,
      BILLING_TEST_CLOCK: '1',
      BILLING_TICK_SECONDS: '1',
      PAYMENT_CHECK_SECONDS: '1',
      RELAY_TIMEOUT_SECONDS: '3',
      NWC_TIMEOUT_SECONDS: '4',
      OUTBOX_RETRY_SECONDS: '1',
    },
  });
  const ok = async (res, status = 200) => {
    assert.equal(res.status, status, res.raw);
    return res.json;
  };
  const admin = () => new Client(rh, adminSk);
  const invoices = async (t) => (await ok(await new Client(rh, t.sk).get('/tenant/invoices?limit=100'))).items;
  const dms = (t, pattern) => relay.events()
    .filter((e) => e.kind === 1059 && e.tags.some((tag) => tag[0] === 'p' && tag[1] === getPublicKey(t.sk)))
    .map((wrap) => nip17.unwrapEvent(wrap, t.sk).content)
    .filter((text) => pattern.test(text));
  try {
    await waitFor(() => /billing enabled/.test(rh.output), { timeoutMs: 15000, what: 'billing enabled' });
    const tenants = [];
    for (const kind of ['nip44', 'nip04', 'hand']) {
      const sk = generateSecretKey();
      await publishTo(relay.url, inboxListEvent(sk, [relay.url]));
      const c = new Client(rh, sk);
      const t = { kind, sk, payer: HAND };
      if (kind !== 'hand') {
        // Answers 400 ms after paying: a kill in between is "paid, reply lost".
        t.wallet = await wallet({ encryption: kind, balanceMsat: START_MSAT, afterPayDelayMs: 400 });
        t.payer = t.wallet.walletPk;
        await ok(await c.put('/tenant/billing', { nwc_url: t.wallet.uri }));
        await waitFor(async () => (await ok(await c.get('/tenant'))).billing.nwc_status === 'ok', { timeoutMs: 15000, what: 'wallet ok' });
      }
      for (const [i, plan] of ['basic', 'growth', 'free'].entries())
        await ok(await c.post('/tenant/relays', { subdomain: `bill-${kind}-${i}`, name: plan, plan }), 201);
      tenants.push(t);
    }
    // The by-hand tenant pays its newest open bolt11 now and then, as a person would.
    const payByHand = async () => {
      const open = (await invoices(tenants[2])).filter((i) => i.status === 'open' && i.bolt11);
      for (const i of open) ledger.pay(HAND, i.bolt11);
    };

    const anchors = new Map();
    for (const t of tenants)
      anchors.set(t, (await ok(await new Client(rh, t.sk).get('/tenant'))).billing.anchor);
    for (let round = 0; round < ROUNDS; round++) {
      await advance(31 * DAY);
      const killAt = Date.now() + randomInt(2500);
      while (Date.now() < killAt) {
        if (randomInt(3) === 0) await payByHand();
        await new Promise((r) => setTimeout(r, 100));
      }
      await rh.stop('SIGKILL');
      await rh.restart();
    }
    const roundsEnd = ledger.now();
    // Every month closed by now is billed, or cost nothing because the tenant's paid
    // relays were switched off all of it for an invoice past its grace (the by-hand
    // tenant, when kills keep it from paying three rounds in a row). Any other month
    // without an invoice is a lost invoice.
    const accounted = async (t) => {
      const list = await invoices(t);
      return monthsClosed(anchors.get(t), roundsEnd).every(([from, to]) =>
        list.some((i) => i.period_start === from) || whollyDelinquent(list, from, to));
    };

    // Settle everything: the by-hand tenant pays what is open; an autopay attempt a
    // kill left undecided waits NWC_PAY_RETRY_HOURS (24) of billing time, so days
    // are moved on (never a month: no new period) until nothing is open.
    await waitFor(async () => {
      await payByHand();
      for (const t of tenants)
        if ((await invoices(t)).some((i) => i.status !== 'paid')) {
          await advance(DAY + 60);
          return false;
        }
      for (const t of tenants)
        if (!(await accounted(t))) return false;
      return true;
    }, { timeoutMs: 90000, intervalMs: 1500, what: 'every invoice paid and every closed month billed' });

    let invoiced = 0;
    for (const t of tenants) {
      const list = await invoices(t);
      const periods = list.map((i) => i.period_start);
      assert.equal(new Set(periods).size, periods.length, `${t.kind}: one invoice per period`);
      const closed = monthsClosed(anchors.get(t), roundsEnd);
      assert.ok(closed.length >= ROUNDS, `${t.kind}: ${closed.length} months closed`);
      for (const [from, to] of closed) {
        const billed = list.some((i) => i.period_start === from && i.period_end === to);
        assert.ok(billed || whollyDelinquent(list, from, to),
                  `${t.kind}: no invoice for ${new Date(from * 1000).toISOString()} and none past grace throughout it`);
      }
      const sats = list.reduce((s, i) => s + i.amount_sats, 0);
      invoiced += sats;
      assert.equal(ledger.balances.get(t.payer), START_MSAT - sats * 1000, `${t.kind}: charged exactly what was invoiced`);
      if (t.wallet) {
        // Never a second pay_invoice for a bolt11 (a kill after sending leaves an
        // attempt that only lookups decide), and every invoice went out through it.
        const sent = t.wallet.calls.filter((c) => c.method === 'pay_invoice').map((c) => c.params.invoice);
        assert.equal(new Set(sent).size, sent.length, `${t.kind}: one pay_invoice per bolt11: ${sent.length} sent`);
        assert.ok(sent.length >= list.length, `${t.kind}: every invoice was paid through the wallet`);
      }
    }
    // (The invoice shows its current bolt11; one paid before a renewal settled an older
    // hash, so exactly-once is checked on the ledger as a whole.)
    const settledToPlatform = [...ledger.invoices.values()].filter((e) => e.payee === platform.walletPk && e.tx.state === 'settled');
    const all = (await Promise.all(tenants.map(invoices))).flat();
    assert.equal(settledToPlatform.length, all.length, 'one settled payment per invoice: no bolt11 of an invoice paid twice');
    assert.equal(ledger.balances.get(platform.walletPk), invoiced * 1000, 'the platform received exactly what was invoiced');

    // One "payment received" notice per invoice, never two (dedupe keys across kills).
    for (const t of tenants) {
      const n = (await invoices(t)).length;
      await waitFor(() => dms(t, /payment received/).length >= n, { timeoutMs: 30000, what: `${t.kind}: payment notices` });
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(dms(t, /payment received/).length, n, `${t.kind}: one payment notice per invoice`);
    }

    // Nothing is left delinquent, and zooid agrees with relayhost on every relay.
    await waitFor(async () => {
      for (const t of tenants) {
        const items = (await ok(await new Client(rh, t.sk).get('/tenant/relays?limit=100'))).items;
        if (items.some((r) => r.status !== 'active' || r.sync.state !== 'synced')) return false;
      }
      return true;
    }, { timeoutMs: 30000, what: 'every relay active and synced' });
    for (const t of tenants)
      for (const r of (await ok(await new Client(rh, t.sk).get('/tenant/relays?limit=100'))).items)
        assert.equal(zooid.configs.get(r.id)?.inactive, false, `zooid runs ${r.subdomain}`);
  } finally {
    await rh.stop();
    rh.cleanup();
    for (const w of wallets) w.stop();
    await relay.stop();
    await zooid.stop();
  }
});

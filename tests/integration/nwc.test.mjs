// NIP-47 through the real binary, against wallet services the test starts on a
// loopback relay (@getalby/sdk's NWCWalletService over one fake Lightning ledger,
// and a rogue wallet of our own): the platform wallet's check at start (billing
// enabled / disabled, in one line), PUT /tenant/billing's background check
// (ok over nip44_v2 and over NIP-04, no pay_invoice, wrong network, each error
// code, unreachable, silent → timed out, forged answers ignored), a check cut short
// by kill -9 run again at the next start, every malformed URI a 400 that changes
// nothing, and the connection's secret in no response, log line or metric.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relayhost, freePort } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { startRelay } from './lib/test_relays.mjs';
import { waitFor } from './lib/nostr_peer.mjs';
import { Ledger, startWallet, startRogueWallet } from './lib/nwc_wallets.mjs';

const platformSk = generateSecretKey();
const relays = [];
const wallets = [];
let walletRelay;
const ledger = new Ledger();

async function wallet(opts = {}) {
  const w = await startWallet({ relayUrl: walletRelay.url, ledger, ...opts });
  wallets.push(w);
  return w;
}

before(async () => {
  walletRelay = await startRelay();
  relays.push(walletRelay);
});
after(async () => {
  for (const w of wallets) w.stop();
  for (const r of relays) await r.stop().catch(() => {});
});

function envFor(extra = {}) {
  return {
    PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'),
    ZOOID_API_URL: 'http://127.0.0.1:1',  // not needed here
    RELAY_DOMAIN: 'spaces.test',
    RELAY_TIMEOUT_SECONDS: '3',
    NWC_TIMEOUT_SECONDS: '3',
    ...extra,
  };
}

async function metrics(rh) {
  return (await fetch(`http://127.0.0.1:${rh.metricsPort}/metrics`)).text();
}

function metricValue(text, name, labels) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (want.every((l) => line.includes(l))) return Number(line.split(' ').pop());
  }
  return 0;
}

/// Waits until the tenant's nwc_status is no longer "unverified" and returns it.
async function settledStatus(client, timeoutMs = 15000) {
  let status;
  await waitFor(async () => {
    status = (await client.get('/tenant')).json.billing.nwc_status;
    return status !== 'unverified';
  }, { timeoutMs, what: 'the wallet check' });
  return status;
}

const secretForms = (w) => [w.secretHex, w.uri, encodeURIComponent(w.uri)];

test('start-up: a platform wallet that makes and looks up invoices enables billing; one that cannot disables it in one line', async () => {
  const good = await wallet({ methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
  const rh = await Relayhost.start({ env: envFor({ NWC_URL: good.uri }) });
  try {
    await waitFor(() => rh.output.includes('billing enabled'), { timeoutMs: 10000, what: 'billing enabled' });
    assert.equal(good.calls.filter((c) => c.method === 'get_info').length, 1);
    assert.ok(!rh.output.includes('billing disabled'));
    const m = await metrics(rh);
    assert.equal(metricValue(m, 'relayhost_billing_enabled', {}), 1);
    assert.equal(metricValue(m, 'relayhost_nwc_requests_total', { wallet: 'platform', method: 'get_info', outcome: 'ok' }), 1);
    for (const s of secretForms(good)) assert.ok(!rh.output.includes(s) && !m.includes(s), 'secret leaked');
  } finally {
    await rh.stop();
    rh.cleanup();
  }

  const noLookup = await wallet({ methods: ['get_info', 'make_invoice', 'pay_invoice'] });
  const rh2 = await Relayhost.start({ env: envFor({ NWC_URL: noLookup.uri }) });
  try {
    await waitFor(() => rh2.output.includes('billing disabled'), { timeoutMs: 10000, what: 'billing disabled' });
    const lines = rh2.output.split('\n').filter((l) => /billing (enabled|disabled)/.test(l));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /billing disabled: the platform wallet lacks lookup_invoice/);
    assert.equal((await rh2.fetch('/healthz')).status, 200, 'everything else is served');
    assert.equal(metricValue(await metrics(rh2), 'relayhost_billing_enabled', {}), 0);
  } finally {
    await rh2.stop();
    rh2.cleanup();
  }

  const rh3 = await Relayhost.start({ env: envFor() });
  try {
    const lines = rh3.output.split('\n').filter((l) => /billing (enabled|disabled)/.test(l));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /billing disabled: NWC_URL is not set/);
  } finally {
    await rh3.stop();
    rh3.cleanup();
  }
});

test('start-up: a platform wallet on an unreachable relay disables billing, and says why', async () => {
  const deadPort = await freePort();
  const w = await wallet();
  const uri = w.uri.replace(encodeURIComponent(walletRelay.url), encodeURIComponent(`ws://127.0.0.1:${deadPort}`));
  const rh = await Relayhost.start({ env: envFor({ NWC_URL: uri }) });
  try {
    await waitFor(() => rh.output.includes('billing disabled'), { timeoutMs: 15000, what: 'billing disabled' });
    assert.match(rh.output, /billing disabled: the platform wallet is unreachable/);
    assert.equal((await rh.fetch('/healthz')).status, 200);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('PUT /tenant/billing: wallets are checked in the background and GET /tenant tells the outcome', async () => {
  const platform = await wallet({ network: 'regtest', methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
  const rh = await Relayhost.start({ env: envFor({ NWC_URL: platform.uri }) });
  try {
    await waitFor(() => rh.output.includes('billing enabled'), { timeoutMs: 10000, what: 'billing enabled' });
    const deadPort = await freePort();
    const cases = [
      { name: 'nip44', w: await wallet({ encryption: 'nip44' }), want: 'ok' },
      { name: 'nip04 only', w: await wallet({ encryption: 'nip04' }), want: 'ok' },
      { name: 'no pay_invoice', w: await wallet({ methods: ['get_info', 'make_invoice'] }),
        want: "error: pay_invoice is not among the wallet's methods" },
      { name: 'wrong network', w: await wallet({ network: 'testnet' }),
        want: 'error: wrong network (the wallet is on testnet, the platform on regtest)' },
      { name: 'silent', w: await wallet({ silent: true }), want: /^error: timed out \(no answer from the wallet within 3 s\)$/ },
      { name: 'wrong key', w: await startRogueWallet({ relayUrl: walletRelay.url, mode: 'wrong_key' }),
        want: /^error: timed out/ },
      { name: 'wrong e tag', w: await startRogueWallet({ relayUrl: walletRelay.url, mode: 'wrong_e' }),
        want: /^error: timed out/ },
      { name: 'forged first, then the real answer',
        w: await startRogueWallet({ relayUrl: walletRelay.url, mode: 'wrong_key', thenRight: true }), want: 'ok' },
    ];
    for (const code of ['RATE_LIMITED', 'NOT_IMPLEMENTED', 'INSUFFICIENT_BALANCE', 'QUOTA_EXCEEDED', 'RESTRICTED',
      'UNAUTHORIZED', 'INTERNAL', 'UNSUPPORTED_ENCRYPTION', 'OTHER', 'PAYMENT_FAILED', 'NOT_FOUND'])
      cases.push({ name: code, w: await wallet({ errors: { get_info: code } }),
        want: `error: the wallet refused get_info (${code}: get_info says ${code})` });
    const unreachable = await wallet();
    cases.push({ name: 'unreachable relay',
      w: { ...unreachable, uri: unreachable.uri.replace(encodeURIComponent(walletRelay.url),
        encodeURIComponent(`ws://127.0.0.1:${deadPort}`)) },
      want: /^error: unreachable \(/ });
    for (const c of cases) wallets.push(c.w);

    // All at once: each tenant's check runs in its own wallet client.
    const ignoredBefore = metricValue(await metrics(rh), 'relayhost_nwc_responses_ignored_total', { wallet: 'tenant' });
    const clients = cases.map(() => new Client(rh));
    const responses = [];
    for (const [i, c] of cases.entries()) {
      const res = await clients[i].put('/tenant/billing', { nwc_url: c.w.uri });
      assert.equal(res.status, 200, `${c.name}: ${res.raw}`);
      assert.equal(res.json.billing.nwc_status, 'unverified', c.name);
      assert.equal(res.json.billing.wallet_pubkey, c.w.walletPk, c.name);
      responses.push(res);
    }
    for (const [i, c] of cases.entries()) {
      const status = await settledStatus(clients[i]);
      if (c.want instanceof RegExp) assert.match(status, c.want, c.name);
      else assert.equal(status, c.want, c.name);
    }
    // What went over the wire: nip44_v2 where offered, NIP-04 (no encryption tag) where not.
    const [nip44Case, nip04Case] = cases;
    assert.ok(nip44Case.w.requests.length >= 1);
    for (const e of nip44Case.w.requests) {
      assert.deepEqual(e.tags.find((t) => t[0] === 'encryption'), ['encryption', 'nip44_v2']);
      assert.ok(e.tags.some((t) => t[0] === 'expiration' && Number(t[1]) > e.created_at));
    }
    for (const e of nip04Case.w.requests) {
      assert.equal(e.tags.find((t) => t[0] === 'encryption'), undefined);
      assert.match(e.content, /\?iv=/);
    }
    assert.equal(nip04Case.w.calls.length, 1, 'the NIP-04 wallet understood one get_info');
    // Forged answers were counted, never acted on. (Answers from the wrong key never
    // reach relayhost: the relay applies the subscription's `authors`; answers with
    // the wrong `e` tag do, since @nostr-relay/core does not apply tag filters live.)
    const m = await metrics(rh);
    const ignored = metricValue(m, 'relayhost_nwc_responses_ignored_total', { wallet: 'tenant' }) - ignoredBefore;
    assert.ok(ignored >= 1, `ignored ${ignored}`);
    assert.ok(metricValue(m, 'relayhost_nwc_requests_total', { wallet: 'tenant', method: 'get_info', outcome: 'ok' }) >= 3);
    assert.ok(metricValue(m, 'relayhost_nwc_requests_total', { wallet: 'tenant', method: 'get_info', outcome: 'unknown' }) >= 3);
    assert.ok(metricValue(m, 'relayhost_nwc_requests_total', { wallet: 'tenant', method: 'get_info', outcome: 'wallet_error' }) >= 11);
    // No secret of any wallet in any response, log line or metric.
    const seen = [rh.output, m, ...responses.map((r) => r.raw)];
    for (const [i, c] of cases.entries()) seen.push((await clients[i].get('/tenant')).raw);
    for (const c of cases)
      for (const s of secretForms(c.w))
        for (const text of seen) assert.ok(!text.includes(s), `${c.name}: a secret leaked`);

    // null disconnects; an answer still on its way cannot bring the status back.
    const off = await clients[0].put('/tenant/billing', { nwc_url: null });
    assert.deepEqual([off.json.billing.nwc_connected, off.json.billing.wallet_pubkey, off.json.billing.nwc_status],
      [false, null, null]);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('a newer connection wins over an older check still running', async () => {
  const slow = await wallet({ silent: true });
  const good = await wallet();
  const rh = await Relayhost.start({ env: envFor() });
  try {
    const t = new Client(rh);
    assert.equal((await t.put('/tenant/billing', { nwc_url: slow.uri })).status, 200);
    assert.equal((await t.put('/tenant/billing', { nwc_url: good.uri })).status, 200);
    assert.equal(await settledStatus(t), 'ok');
    // The first check ends (its get_info times out, NWC_TIMEOUT_SECONDS 3) after the second
    // one: wait for that, then give a stale outcome a moment to (wrongly) land.
    await waitFor(() => rh.output.split('\n').some((l) => l.includes('wallet did not answer in time') && l.includes(slow.walletPk)),
      { timeoutMs: 15000, what: "the first check's timeout" });
    await new Promise((r) => setTimeout(r, 1000));
    const b = (await t.get('/tenant')).json.billing;
    assert.equal(b.nwc_status, 'ok');
    assert.equal(b.wallet_pubkey, good.walletPk);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('kill -9 while a wallet is being checked: the next start checks it again', async () => {
  const w = await wallet({ silent: true });
  const rh = await Relayhost.start({ env: envFor({ NWC_TIMEOUT_SECONDS: '30' }) });
  try {
    const t = new Client(rh);
    assert.equal((await t.put('/tenant/billing', { nwc_url: w.uri })).json.billing.nwc_status, 'unverified');
    await waitFor(() => w.requests.length === 1, { timeoutMs: 10000, what: 'the get_info request' });
    await rh.stop('SIGKILL');
    // The wallet comes to life under the same keys; the restarted server asks again
    // when the tenant is next loaded (here: its next request).
    w.stop();
    const again = await wallet({ walletSk: w.walletSk, clientSk: w.clientSk });
    await rh.restart();
    assert.equal(await settledStatus(t), 'ok');
    assert.equal(again.calls.filter((c) => c.method === 'get_info').length, 1);
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('every malformed connection URI is a precise 400 and changes nothing stored', async () => {
  const good = await wallet();
  const rh = await Relayhost.start({ env: envFor() });
  try {
    const t = new Client(rh);
    assert.equal((await t.put('/tenant/billing', { nwc_url: good.uri })).status, 200);
    assert.equal(await settledStatus(t), 'ok');
    const before = (await t.get('/tenant')).raw;
    const wpk = good.walletPk;
    const sec = good.secretHex;
    const relay = encodeURIComponent(walletRelay.url);
    const bad = [
      '',
      `https://${wpk}?relay=${relay}&secret=${sec}`,
      `nostr+walletconnect://${wpk}`,
      `nostr+walletconnect://${wpk.slice(1)}?relay=${relay}&secret=${sec}`,
      `nostr+walletconnect://${wpk}?secret=${sec}`,
      `nostr+walletconnect://${wpk}?relay=${encodeURIComponent('https://r.test')}&secret=${sec}`,
      `nostr+walletconnect://${wpk}?relay=${relay}`,
      `nostr+walletconnect://${wpk}?relay=${relay}&secret=${sec.slice(2)}`,
      `nostr+walletconnect://${wpk}?relay=${relay}&secret=${'0'.repeat(64)}`,
      `nostr+walletconnect://${wpk}?relay=${relay}&secret=${sec}&secret=${sec}`,
      `nostr+walletconnect://${wpk}?relay=wss%3&secret=${sec}`,
      `nostr+walletconnect://${wpk}?relay=${relay}&secret=${sec}${'a'.repeat(5000)}`,
    ];
    const messages = new Set();
    for (const uri of bad) {
      const res = await t.put('/tenant/billing', { nwc_url: uri });
      assert.equal(res.status, 400, uri.slice(0, 80));
      assert.equal(res.json.code, 'invalid-field');
      assert.equal(res.json.field, 'nwc_url');
      assert.ok(!res.raw.includes(sec), 'the secret is not echoed');
      messages.add(res.json.error);
    }
    assert.ok(messages.size >= 8, `precise messages: ${[...messages].join(' | ')}`);
    for (const body of [{ nwc_url: 42 }, { nwc_url: {} }, { nwc: good.uri }, {}, []]) {
      const res = await t.put('/tenant/billing', body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await t.get('/tenant')).raw, before, 'nothing changed');
    assert.ok(!rh.output.includes(sec));
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

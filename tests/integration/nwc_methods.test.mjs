// Every NIP-47 method relayhost uses, through relayhost's own stack (websocket
// client → relay pool → NWC client actor, driven by rh_nwc_cli) against
// @getalby/sdk's wallet service on a loopback relay, one fake Lightning ledger
// between the platform's wallet (nip44_v2) and a tenant's (NIP-04 only): an invoice
// made by one is paid by the other and looked up as settled with its preimage; a
// second payment fails; each error code arrives typed; a wallet that never answers
// is "unknown" (not "failed"); forged answers are ignored; the in-flight bound and
// FIFO order hold; RATE_LIMITED slows the client down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startRelay } from './lib/test_relays.mjs';
import { Ledger, startWallet, startRogueWallet } from './lib/nwc_wallets.mjs';

const cli = path.join(process.env.RELAYHOST_TOOLS_DIR ?? '', 'rh_nwc_cli');
const ERROR_CODES = ['NOT_IMPLEMENTED', 'INSUFFICIENT_BALANCE', 'QUOTA_EXCEEDED', 'RESTRICTED', 'UNAUTHORIZED',
  'INTERNAL', 'UNSUPPORTED_ENCRYPTION', 'OTHER', 'PAYMENT_FAILED', 'NOT_FOUND', 'RATE_LIMITED'];

let relay;
const wallets = [];
const ledger = new Ledger();

before(async () => {
  assert.ok(existsSync(cli), `missing ${cli}: build rh_nwc_cli and set RELAYHOST_TOOLS_DIR`);
  relay = await startRelay();
});
after(async () => {
  for (const w of wallets) w.stop();
  await relay?.stop();
});

async function wallet(opts = {}) {
  const w = await startWallet({ relayUrl: relay.url, ledger, ...opts });
  wallets.push(w);
  return w;
}

/// Runs rh_nwc_cli (asynchronously: the relay and the wallets live in this process).
function nwc(uri, requests, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, [uri], {
      env: { ...process.env, NWC_TIMEOUT_SECONDS: '5', RELAY_TIMEOUT_SECONDS: '3', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`rh_nwc_cli exited ${code}: ${err}`));
      const results = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      resolve({ results, stats: JSON.parse(err.trim().split('\n').pop()), stderr: err });
    });
    child.stdin.end(requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });
}
const one = async (uri, method, params = {}, env) => (await nwc(uri, [{ method, params }], env)).results[0];

const sha256 = (hex) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

test('get_info, make_invoice, lookup_invoice and pay_invoice: nip44_v2 platform wallet, NIP-04 tenant wallet, one ledger', async () => {
  const platform = await wallet({ encryption: 'nip44', methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
  const tenant = await wallet({ encryption: 'nip04', methods: ['get_info', 'pay_invoice'], balanceMsat: 50_000_000 });

  const info = await one(platform.uri, 'get_info');
  assert.equal(info.kind, 'ok', JSON.stringify(info));
  assert.deepEqual(info.result.methods, ['get_info', 'make_invoice', 'lookup_invoice']);
  assert.equal(info.result.network, 'regtest');
  const tinfo = await one(tenant.uri, 'get_info');
  assert.equal(tinfo.kind, 'ok', JSON.stringify(tinfo));
  assert.ok(tinfo.result.methods.includes('pay_invoice'));

  const made = await one(platform.uri, 'make_invoice', { amount: 21_000_000, description: 'relayhost: May 2027', expiry: 600 });
  assert.equal(made.kind, 'ok', JSON.stringify(made));
  assert.match(made.result.invoice, /^lnbcrt/);
  assert.equal(made.result.amount, 21_000_000);
  assert.equal(made.result.description, 'relayhost: May 2027');
  const hash = made.result.payment_hash;
  assert.match(hash, /^[0-9a-f]{64}$/);

  const pending = await one(platform.uri, 'lookup_invoice', { payment_hash: hash });
  assert.equal(pending.kind, 'ok');
  assert.equal(pending.lookup.status, 'pending');

  const paid = await one(tenant.uri, 'pay_invoice', { invoice: made.result.invoice });
  assert.equal(paid.kind, 'ok', JSON.stringify(paid));
  assert.equal(sha256(paid.result.preimage), hash, 'the preimage pays this invoice');
  assert.equal(ledger.balances.get(tenant.walletPk), 29_000_000);
  assert.equal(ledger.balances.get(platform.walletPk), 21_000_000);

  const again = await one(tenant.uri, 'pay_invoice', { invoice: made.result.invoice });
  assert.equal(again.kind, 'wallet_error');
  assert.equal(again.code, 'PAYMENT_FAILED');
  assert.equal(ledger.balances.get(tenant.walletPk), 29_000_000, 'paid once');

  const settled = await one(platform.uri, 'lookup_invoice', { payment_hash: hash });
  assert.equal(settled.kind, 'ok');
  assert.equal(settled.lookup.status, 'settled');
  assert.equal(settled.lookup.preimage, paid.result.preimage);
  assert.ok(settled.lookup.settled_at > 0);

  // On the wire: nip44_v2 with its tag to the platform's wallet, NIP-04 (…?iv=…)
  // without one to the tenant's; each request carries an expiration tag.
  assert.ok(platform.requests.length >= 4);
  for (const r of platform.requests) {
    assert.deepEqual(r.tags.find((t) => t[0] === 'encryption'), ['encryption', 'nip44_v2']);
    assert.ok(!r.content.includes('?iv='));
  }
  assert.ok(tenant.requests.length >= 3);
  for (const r of tenant.requests) {
    assert.equal(r.tags.find((t) => t[0] === 'encryption'), undefined);
    assert.match(r.content, /\?iv=/);
  }
  for (const r of [...platform.requests, ...tenant.requests]) {
    const exp = r.tags.find((t) => t[0] === 'expiration');
    assert.ok(exp && Number(exp[1]) > r.created_at, 'an expiration after creation');
  }
  const ids = [info, made, pending, settled].map((r) => r.request_id);
  assert.deepEqual(ids, [...new Set(ids)], 'one event per request');
  assert.ok(ids.every((id) => platform.requests.some((r) => r.id === id)));
});

test('an invoice the payer cannot afford: INSUFFICIENT_BALANCE, typed, and nothing moves', async () => {
  const platform = await wallet({ methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
  const poor = await wallet({ encryption: 'nip04', methods: ['get_info', 'pay_invoice'], balanceMsat: 1000 });
  const made = await one(platform.uri, 'make_invoice', { amount: 5_000_000, description: 'too much' });
  assert.equal(made.kind, 'ok');
  const r = await one(poor.uri, 'pay_invoice', { invoice: made.result.invoice });
  assert.equal(r.kind, 'wallet_error');
  assert.equal(r.code, 'INSUFFICIENT_BALANCE');
  assert.equal(r.message, 'not enough sats');
  assert.equal(ledger.balances.get(poor.walletPk), 1000);
  const look = await one(platform.uri, 'lookup_invoice', { payment_hash: made.result.payment_hash });
  assert.equal(look.lookup.status, 'pending');
});

test('every NIP-47 error code on pay_invoice arrives as that typed code; a code nobody knows is OTHER and keeps its text', async () => {
  const codes = [...ERROR_CODES, 'SOMETHING_NEW'];
  const w = await wallet({ encryption: 'nip44', errors: { pay_invoice: (n) => codes[n] } });
  // One at a time, so the wallet's n-th call is the n-th request (RATE_LIMITED is last: it pauses the client).
  const { results } = await nwc(w.uri, codes.map((c) => ({ method: 'pay_invoice', params: { invoice: `lnbcrt1n1p${c}` } })),
    { NWC_MAX_IN_FLIGHT: '1' });
  assert.equal(results.length, codes.length);
  ERROR_CODES.forEach((code, i) => {
    assert.equal(results[i].kind, 'wallet_error', code);
    assert.equal(results[i].code, code);
    assert.equal(results[i].message, `pay_invoice says ${code}`);
    assert.equal(results[i].result, null);
  });
  const last = results[codes.length - 1];
  assert.equal(last.kind, 'wallet_error');
  assert.equal(last.code, 'OTHER');
  assert.equal(last.message, 'SOMETHING_NEW: pay_invoice says SOMETHING_NEW');
  assert.deepEqual(w.calls.map((c) => c.params.invoice), codes.map((c) => `lnbcrt1n1p${c}`));
});

test('a wallet that never answers is "unknown" after NWC_TIMEOUT_SECONDS; an unreachable relay is "not_sent"', async () => {
  const silent = await wallet({ silent: true });
  const t0 = Date.now();
  const r = await one(silent.uri, 'pay_invoice', { invoice: 'lnbcrt1n1pnobody' }, { NWC_TIMEOUT_SECONDS: '2' });
  assert.equal(r.kind, 'unknown', JSON.stringify(r));
  assert.equal(r.code, '');
  assert.ok(Date.now() - t0 >= 2000, 'waited the timeout');
  assert.equal(silent.requests.length, 1, 'the request was published: the wallet may have acted');
  assert.equal(silent.requests[0].id, r.request_id);

  const gone = silent.uri.replace(encodeURIComponent(relay.url), encodeURIComponent('ws://127.0.0.1:1'));
  const n = await one(gone, 'pay_invoice', { invoice: 'lnbcrt1n1pnobody' }, { NWC_TIMEOUT_SECONDS: '2', RELAY_TIMEOUT_SECONDS: '1' });
  assert.equal(n.kind, 'not_sent', JSON.stringify(n));
});

test('answers from the wrong key or for another request are ignored (unknown); the right answer after them is taken', async () => {
  for (const mode of ['wrong_key', 'wrong_e']) {
    const rogue = await startRogueWallet({ relayUrl: relay.url, mode });
    wallets.push(rogue);
    const r = await one(rogue.uri, 'get_info', {}, { NWC_TIMEOUT_SECONDS: '2' });
    assert.equal(rogue.answered.length, 1, `${mode}: the rogue answered`);
    assert.equal(r.kind, 'unknown', `${mode}: ${JSON.stringify(r)}`);

    const honest = await startRogueWallet({ relayUrl: relay.url, mode, thenRight: true });
    wallets.push(honest);
    const ok = await one(honest.uri, 'get_info', {}, { NWC_TIMEOUT_SECONDS: '5' });
    assert.equal(ok.kind, 'ok', `${mode} then right: ${JSON.stringify(ok)}`);
    assert.equal(ok.result.alias, 'rogue');
  }
});

test('NWC_MAX_IN_FLIGHT bounds the requests a wallet has at once; the queue is FIFO; answers go to their own requests', async () => {
  const w = await wallet({ methods: ['get_info', 'make_invoice'], delayMs: 800 });  // long enough for 3 to overlap on a slow machine
  const n = 10;
  const { results } = await nwc(w.uri,
    Array.from({ length: n }, (_, i) => ({ method: 'make_invoice', params: { amount: 1000 * (i + 1), description: `n${i}` } })),
    { NWC_MAX_IN_FLIGHT: '3' });
  assert.equal(w.calls.maxConcurrent, 3);
  results.forEach((r, i) => {
    assert.equal(r.kind, 'ok');
    assert.equal(r.result.description, `n${i}`);
    assert.equal(r.result.amount, 1000 * (i + 1));
  });
  // FIFO with 3 in flight: request k is sent only once k-2 earlier ones have
  // been answered, so it reaches the wallet no later than 2 places early.
  const order = w.calls.filter((c) => c.method === 'make_invoice').map((c) => Number(c.params.description.slice(1)));
  assert.deepEqual([...order].sort((a, b) => a - b), [...Array(n).keys()]);
  order.forEach((k, pos) => assert.ok(k <= pos + 2, `request ${k} overtook the queue (at ${pos}): ${order}`));
});

test('RATE_LIMITED makes the client wait before its next request to that wallet', async () => {
  const w = await wallet({ errors: { get_info: (n) => (n === 0 ? 'RATE_LIMITED' : undefined) } });
  const { results } = await nwc(w.uri, [{ method: 'get_info' }, { method: 'get_info' }], { NWC_MAX_IN_FLIGHT: '1' });
  assert.equal(results[0].code, 'RATE_LIMITED');
  assert.equal(results[1].kind, 'ok');
  const calls = w.calls.filter((c) => c.method === 'get_info');
  assert.equal(calls.length, 2);
  assert.ok(calls[1].at - calls[0].at >= 1500, `the second request came ${calls[1].at - calls[0].at} ms after the first`);
});

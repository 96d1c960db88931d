// NIP-47 wallet services for the tests, on relays the tests start: the wallet side
// is @getalby/sdk's NWCWalletService (somebody else's NIP-47 implementation), over
// one fake Lightning ledger shared by the platform wallet and tenants' wallets, so
// an invoice one wallet makes is one another can pay and the first can look up.
//
// startWallet() variants:
//   encryption 'nip44'   the SDK's own info event ("nip04 nip44_v2"): clients use nip44_v2
//   encryption 'nip04'   an info event without an `encryption` tag (NIP-04 only)
//   silent: true         the info event is there, nobody answers
//   errors: {method: code | (n) => code|undefined}  that method answers the NIP-47
//                        error `code` (a function gets the call's number, from 0)
//   delayMs              each answer waits this long (calls.maxConcurrent shows overlap)
//   beforePay, afterPay  async hooks pay_invoice awaits before the ledger pays / after it
//                        paid and before the answer goes out: a test holds the payment
//                        there (e.g. until it has killed relayhost), no guessed delay
// startRogueWallet(): answers from the wrong key, or with the wrong `e` tag (not the
// SDK: it would never do that), then optionally the right answer.
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import * as nip44 from 'nostr-tools/nip44';
import { publishTo } from './nostr_peer.mjs';

// The SDK's bundled nostr-tools takes the global WebSocket when it loads (Node 20
// has none), so it is set before the import.
globalThis.WebSocket ??= WebSocket;
const { NWCWalletService, NWCWalletServiceKeyPair } = await import('@getalby/sdk/nwc');

// Closing the SDK's pool rejects promises inside the SDK that nobody awaits
// ("relay connection closed by us", as an AggregateError of Promise.any): that is
// the wallet going away as asked, not a test failure. Anything else still fails.
const closedByUs = (e) => [e, ...(e?.errors ?? [])].some((x) => /closed by us/.test(String(x?.message ?? x)));
process.on('unhandledRejection', (e) => {
  if (closedByUs(e)) return;
  throw e;
});

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const now = () => Math.floor(Date.now() / 1000);

/// Fake Lightning: invoices by payment hash, paid from one wallet's balance to another's.
export class Ledger {
  constructor() {
    // The ledger's clock (invoice times, expiry); a test with the billing test clock
    // moves it with relayhost's, so a bolt11 relayhost counts as expired is unpayable.
    this.now = now;
    this.invoices = new Map(); // payment_hash → transaction
    this.balances = new Map(); // wallet pubkey → msats
  }

  makeInvoice(walletPk, { amount, description = '', expiry = 86400 }) {
    const preimage = randomBytes(32).toString('hex');
    const paymentHash = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex');
    const created = this.now();
    const tx = {
      type: 'incoming',
      state: 'pending',
      invoice: `lnbcrt${Math.floor(amount / 1000)}n1p${paymentHash.slice(0, 52)}`,
      description,
      description_hash: '',
      preimage: '',
      payment_hash: paymentHash,
      amount,
      fees_paid: 0,
      created_at: created,
      expires_at: created + expiry,
      settled_at: undefined,
      metadata: {},
    };
    this.invoices.set(paymentHash, { tx, preimage, payee: walletPk });
    return tx;
  }

  lookup({ payment_hash, invoice }) {
    const entry = payment_hash ? this.invoices.get(payment_hash)
      : [...this.invoices.values()].find((e) => e.tx.invoice === invoice);
    return entry?.tx;
  }

  /// Pays `bolt11` from `payerPk`: { preimage } or { code, message }.
  pay(payerPk, bolt11) {
    const entry = [...this.invoices.values()].find((e) => e.tx.invoice === bolt11);
    if (!entry) return { code: 'NOT_FOUND', message: 'no such invoice' };
    if (entry.tx.state === 'settled') return { code: 'PAYMENT_FAILED', message: 'invoice already paid' };
    if (entry.tx.expires_at < this.now()) return { code: 'PAYMENT_FAILED', message: 'invoice expired' };
    const balance = this.balances.get(payerPk) ?? 0;
    if (balance < entry.tx.amount) return { code: 'INSUFFICIENT_BALANCE', message: 'not enough sats' };
    this.balances.set(payerPk, balance - entry.tx.amount);
    this.balances.set(entry.payee, (this.balances.get(entry.payee) ?? 0) + entry.tx.amount);
    entry.tx.state = 'settled';
    entry.tx.settled_at = this.now();
    entry.tx.preimage = entry.preimage;
    return { preimage: entry.preimage };
  }
}

function connectionUri(walletPk, relayUrl, clientSk) {
  return `nostr+walletconnect://${walletPk}?relay=${encodeURIComponent(relayUrl)}&secret=${hex(clientSk)}`;
}

/// Raw kind-23194 requests to `walletPk` on `relayUrl`, as they went over the wire.
function watchRequests(relayUrl, walletPk) {
  const seen = [];
  const ws = new WebSocket(relayUrl);
  const ready = new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      // @nostr-relay/core 0.0.40 ignores tag filters on live events: checked here.
      const forWallet = (e) => e.tags.some((t) => t[0] === 'p' && t[1] === walletPk);
      if (msg[0] === 'EVENT' && msg[1] === 'watch' && forWallet(msg[2])) seen.push(msg[2]);
      if (msg[0] === 'EOSE' && msg[1] === 'watch') resolve();
    });
    ws.once('open', () => ws.send(JSON.stringify(['REQ', 'watch', { kinds: [23194], '#p': [walletPk] }])));
  });
  return { seen, ready, close: () => ws.terminate() };
}

/**
 * A wallet service on `relayUrl` (its info event published before this resolves).
 * @returns {Promise<{uri, walletPk, clientPk, secretHex, calls, requests, stop()}>}
 *   calls: [{method, params}] as the SDK handed them to the wallet; requests: the raw events.
 *   walletSk/clientSk may be passed to bring a stopped wallet back under the same keys.
 */
export async function startWallet({
  relayUrl, ledger = new Ledger(), encryption = 'nip44', network = 'regtest', balanceMsat = 0,
  methods = ['get_info', 'make_invoice', 'lookup_invoice', 'pay_invoice'], infoMethods, silent = false, errors = {},
  alias = 'test wallet', delayMs = 0, afterPayDelayMs = 0, beforePay, afterPay,
  walletSk = generateSecretKey(), clientSk = generateSecretKey(),
} = {}) {
  const walletPk = getPublicKey(walletSk);
  const clientPk = getPublicKey(clientSk);
  ledger.balances.set(walletPk, balanceMsat);
  const calls = [];
  const watch = watchRequests(relayUrl, walletPk);
  await watch.ready;

  const service = new NWCWalletService({ relayUrls: [relayUrl] });
  if (encryption === 'nip44') {
    await service.publishWalletServiceInfoEvent(hex(walletSk), infoMethods ?? methods, []);
  } else {
    const info = finalizeEvent({ kind: 13194, created_at: now(), tags: [], content: (infoMethods ?? methods).join(' ') },
      walletSk);
    await publishTo(relayUrl, info);
  }

  let concurrent = 0;
  calls.maxConcurrent = 0;
  const answer = (method, fn) => async (params) => {
    const n = calls.filter((c) => c.method === method).length;
    calls.push({ method, params, at: Date.now() });
    concurrent += 1;
    calls.maxConcurrent = Math.max(calls.maxConcurrent, concurrent);
    try {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const code = typeof errors[method] === 'function' ? errors[method](n) : errors[method];
      if (code) return { result: undefined, error: { code, message: `${method} says ${code}` } };
      return await fn(params);
    } finally {
      concurrent -= 1;
    }
  };
  const handler = {
    getInfo: answer('get_info', async () => ({
      result: { alias, color: '#ff9900', pubkey: walletPk, network, block_height: 1, block_hash: '00', methods, notifications: [] },
      error: undefined,
    })),
    makeInvoice: answer('make_invoice', async (p) => ({ result: ledger.makeInvoice(walletPk, p), error: undefined })),
    lookupInvoice: answer('lookup_invoice', async (p) => {
      const tx = ledger.lookup(p);
      return tx ? { result: tx, error: undefined } : { result: undefined, error: { code: 'NOT_FOUND', message: 'no such invoice' } };
    }),
    payInvoice: answer('pay_invoice', async (p) => {
      if (beforePay) await beforePay(p);
      const out = ledger.pay(walletPk, p.invoice);
      // Settled in the ledger, the answer not sent yet (a crash in between is a test case).
      if (afterPay) await afterPay(p, out);
      if (afterPayDelayMs) await new Promise((r) => setTimeout(r, afterPayDelayMs));
      return out.code ? { result: undefined, error: { code: out.code, message: out.message } }
        : { result: { preimage: out.preimage, fees_paid: 0 }, error: undefined };
    }),
  };
  let unsubscribe = () => {};
  if (!silent) unsubscribe = await service.subscribe(new NWCWalletServiceKeyPair(hex(walletSk), clientPk), handler);
  return {
    uri: connectionUri(walletPk, relayUrl, clientSk),
    walletPk, clientPk, walletSk, clientSk, secretHex: hex(clientSk), ledger, calls,
    requests: watch.seen,
    stop() { unsubscribe(); service.close(); watch.close(); },
  };
}

/**
 * A wallet that answers every request wrongly: `mode` 'wrong_key' (signed by another
 * key) or 'wrong_e' (the `e` tag of another request); with `thenRight` the right
 * answer follows the wrong one.
 */
export async function startRogueWallet({ relayUrl, mode, thenRight = false, network = 'regtest' }) {
  const walletSk = generateSecretKey();
  const walletPk = getPublicKey(walletSk);
  const clientSk = generateSecretKey();
  const clientPk = getPublicKey(clientSk);
  const info = finalizeEvent({ kind: 13194, created_at: now(), tags: [['encryption', 'nip44_v2 nip04']],
    content: 'get_info make_invoice lookup_invoice pay_invoice' }, walletSk);
  await publishTo(relayUrl, info);
  const answered = [];
  const ws = new WebSocket(relayUrl);
  await new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', async (data) => {
      const msg = JSON.parse(data.toString());
      if (msg[0] === 'EOSE') resolve();
      if (msg[0] !== 'EVENT' || msg[1] !== 'rogue') return;
      const req = msg[2];
      if (!req.tags.some((t) => t[0] === 'p' && t[1] === walletPk)) return;  // tag filters are not applied live
      const key = nip44.v2.utils.getConversationKey(walletSk, clientPk);
      const body = JSON.parse(nip44.v2.decrypt(req.content, key));
      const result = { result_type: body.method, error: null,
        result: { alias: 'rogue', network, methods: ['pay_invoice', 'get_info'] } };
      const respond = async (sk, e) => {
        const k = nip44.v2.utils.getConversationKey(sk, clientPk);
        const ev = finalizeEvent({ kind: 23195, created_at: now(), tags: [['e', e], ['p', clientPk]],
          content: nip44.v2.encrypt(JSON.stringify(result), k) }, sk);
        await publishTo(relayUrl, ev);
      };
      if (mode === 'wrong_key') await respond(generateSecretKey(), req.id);
      else await respond(walletSk, 'e'.repeat(64));
      answered.push(req.id);
      if (thenRight) await respond(walletSk, req.id);
    });
    ws.once('open', () => ws.send(JSON.stringify(['REQ', 'rogue', { kinds: [23194], '#p': [walletPk], since: now() - 5 }])));
  });
  return { uri: connectionUri(walletPk, relayUrl, clientSk), walletPk, secretHex: hex(clientSk), answered,
    stop() { ws.terminate(); } };
}


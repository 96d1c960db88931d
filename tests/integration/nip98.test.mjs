// NIP-98 on the running server: tokens made by nostr-tools are accepted (with and
// without payload, padded or not, any scheme case); each failed check is its own
// 401 with WWW-Authenticate and a message naming the check; a replayed write is
// refused; random and truncated headers always get 401 and never crash the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure';
import * as nip98 from 'nostr-tools/nip98';
import { Relayhost } from './lib/relayhost.mjs';

let rh;
const sk = generateSecretKey();
before(async () => { rh = await Relayhost.start(); });
after(async () => { await rh.stop(); rh.cleanup(); });

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64');
const now = () => Math.floor(Date.now() / 1000);

function event({ url, method = 'GET', kind = 27235, created_at = now(), extraTags = [], payload } = {}) {
  const tags = [['u', url], ['method', method], ...extraTags];
  if (payload !== undefined) tags.push(['payload', createHash('sha256').update(payload).digest('hex')]);
  return finalizeEvent({ kind, created_at, tags, content: '' }, sk);
}

async function call(path, authorization, { method = 'GET', body } = {}) {
  const headers = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await rh.fetch(path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, www: res.headers.get('www-authenticate') };
}

function assertRejected(res, pattern) {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal(res.body.code, 'unauthorized');
  assert.equal(res.www, 'Nostr');
  assert.match(res.body.error, pattern);
}

test('nostr-tools tokens are accepted, with and without payload', async () => {
  const sign = (e) => finalizeEvent(e, sk);
  const url = `${rh.baseUrl}/tenant`;
  const got = await call('/tenant', await nip98.getToken(url, 'GET', sign, true));
  assert.equal(got.status, 200);
  assert.equal(got.body.pubkey, getPublicKey(sk));
  const body = { subdomain: `nip98-${randomBytes(3).toString('hex')}`, name: 'n', plan: 'free' };
  const withPayload = await nip98.getToken(`${rh.baseUrl}/tenant/relays`, 'POST', sign, true, body);
  assert.equal((await call('/tenant/relays', withPayload, { method: 'POST', body: JSON.stringify(body) })).status, 201);
  // A write without a payload tag is accepted (NIP-98: SHOULD).
  const body2 = { ...body, subdomain: `${body.subdomain}-2` };
  const noPayload = await nip98.getToken(`${rh.baseUrl}/tenant/relays`, 'POST', sign, true);
  assert.equal((await call('/tenant/relays', noPayload, { method: 'POST', body: JSON.stringify(body2) })).status, 201);
});

test('scheme is case-insensitive and unpadded base64 is accepted', async () => {
  const ev = event({ url: `${rh.baseUrl}/tenant?x=1` });
  const token = b64(ev).replace(/=+$/, '');
  assert.equal((await call('/tenant?x=1', `nostr ${token}`)).status, 200);
  assert.equal((await call('/tenant?x=1', `NOSTR ${b64(ev)}`)).status, 200);
});

test('each failing check has its own 401', async () => {
  const url = `${rh.baseUrl}/tenant`;
  assertRejected(await call('/tenant', undefined), /missing/i);
  assertRejected(await call('/tenant', `Bearer ${b64(event({ url }))}`), /scheme/i);
  assertRejected(await call('/tenant', 'Nostr !!!not-base64!!!'), /base64/i);
  assertRejected(await call('/tenant', `Nostr ${Buffer.from('{"not":"an event"').toString('base64')}`), /event/i);
  const tampered = { ...event({ url }), content: 'changed' };
  assertRejected(await call('/tenant', `Nostr ${b64(tampered)}`), /id/i);
  const other = event({ url: `${url}?other` });
  const badSig = { ...event({ url }), sig: other.sig };
  assertRejected(await call('/tenant', `Nostr ${b64(badSig)}`), /signature/i);
  assertRejected(await call('/tenant', `Nostr ${b64(event({ url, kind: 1 }))}`), /kind/i);
  assertRejected(await call('/tenant', `Nostr ${b64(event({ url, created_at: now() - 120 }))}`), /created_at/i);
  assertRejected(await call('/tenant', `Nostr ${b64(event({ url, created_at: now() + 120 }))}`), /created_at/i);
  assertRejected(await call('/tenant', `Nostr ${b64(event({ url: `${url}/other` }))}`), /\bu\b|url/i);
  assertRejected(await call('/tenant?a=1', `Nostr ${b64(event({ url }))}`), /\bu\b|url/i);
  assertRejected(await call('/tenant', `Nostr ${b64(event({ url: url.replace('127.0.0.1', 'localhost') }))}`), /\bu\b|url/i);
  assertRejected(await call('/tenant', `Nostr ${b64(event({ url, method: 'POST' }))}`), /method/i);
  const body = JSON.stringify({ subdomain: 'payload-check', name: 'n', plan: 'free' });
  const wrongPayload = event({ url: `${rh.baseUrl}/tenant/relays`, method: 'POST', payload: `${body} ` });
  assertRejected(await call('/tenant/relays', `Nostr ${b64(wrongPayload)}`, { method: 'POST', body }), /payload/i);
});

test('a replayed write is refused; a repeated read is not', async () => {
  const url = `${rh.baseUrl}/tenant/relays`;
  const body = JSON.stringify({ subdomain: `replay-${randomBytes(3).toString('hex')}`, name: 'n', plan: 'free' });
  const token = `Nostr ${b64(event({ url, method: 'POST', payload: body }))}`;
  assert.equal((await call('/tenant/relays', token, { method: 'POST', body })).status, 201);
  assertRejected(await call('/tenant/relays', token, { method: 'POST', body }), /replay|already used/i);
  const read = `Nostr ${b64(event({ url }))}`;
  assert.equal((await call('/tenant/relays', read)).status, 200);
  assert.equal((await call('/tenant/relays', read)).status, 200);
});

test('random and truncated headers always get 401 and never crash the server', async () => {
  const good = `Nostr ${b64(event({ url: `${rh.baseUrl}/tenant` }))}`;
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 300; i++) {
    let h;
    switch (i % 3) {
      case 0: h = good.slice(0, Math.floor(rand() * good.length)); break;
      case 1: h = `Nostr ${randomBytes(Math.floor(rand() * 600)).toString('base64')}`; break;
      default: {
        const chars = good.split('');
        // Inside the token, away from the scheme and the final base64 quantum.
        for (let k = 0; k < 3; k++) {
          const at = 6 + Math.floor(rand() * (chars.length - 10));
          let c;
          do c = String.fromCharCode(33 + Math.floor(rand() * 90)); while (c === chars[at]);
          chars[at] = c;
        }
        h = chars.join('');
      }
    }
    // Cutting off exactly the `=` padding leaves the same token unpadded, which is rightly
    // accepted (see above); whether a cut does that depends on the event's length, which
    // varies (the port is in its URL). Half the padding ("…x=") is still a truncation: 401.
    if (h === good || h === good.replace(/=+$/, '')) continue;
    const res = await call('/tenant', h);
    assert.equal(res.status, 401, `header ${JSON.stringify(h)} → ${res.status}`);
  }
  assert.equal((await rh.fetch('/healthz')).status, 200);
});

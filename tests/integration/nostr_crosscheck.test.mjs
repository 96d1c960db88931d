// Cross-checks relayhost's Nostr core (through tests/tools/nostr_cli.cpp) against
// nostr-tools: canonical serialization and ids byte for byte, signatures both
// ways, NIP-98 tokens both ways, and NIP-44 v2 payloads both ways.
// Run: RELAYHOST_TOOLS_DIR=build/tests node --test tests/integration/nostr_crosscheck.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  finalizeEvent, generateSecretKey, getEventHash, getPublicKey, serializeEvent, verifyEvent,
} from 'nostr-tools/pure';
import * as nip98 from 'nostr-tools/nip98';
import { npubEncode, nsecEncode } from 'nostr-tools/nip19';
import * as nip44 from 'nostr-tools/nip44';

const cli = path.join(process.env.RELAYHOST_TOOLS_DIR ?? '', 'rh_nostr_cli');
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const unixNow = () => Math.floor(Date.now() / 1000);

// Runs a CLI command with one JSON line per input and returns one parsed object per line.
function cliLines(args, inputs) {
  const r = spawnSync(cli, args, {
    input: inputs.map((x) => JSON.stringify(x)).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `rh_nostr_cli ${args[0]} failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, inputs.length);
  return lines.map((l) => JSON.parse(l));
}

// Strings that serializers get wrong.
const allControls = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('');
const tricky = [
  '',
  allControls,
  '\u007f\u0080\u009f\u00a0\u00ad',
  'quotes " and \' and backslashes \\ \\\\ \\" and \\u0041 literally',
  'slash / and </script> and <!-- -->',
  'line separators \u2028 and \u2029 and \r\n and \t tab',
  'emoji 😀 👩‍👩‍👧‍👦 🇩🇪 and astral 𝄞 𐍈 and max \u{10ffff}',
  'bom \ufeff nonchar \uffff \ufffe replacement \ufffd private \ue000',
  'mixed ünïcödé 日本語 עברית العربية',
  JSON.stringify({ nested: ['json', 1, null, { a: '\n' }] }),
  'x'.repeat(20000),
];

function randomText(rng, maxLen) {
  const pool = [0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, 0x22, 0x2f, 0x5c, 0x7f, 0x80,
    0x2028, 0x2029, 0xfeff, 0xffff, 0x1f600, 0x10ffff, 0xe9, 0x41];
  let s = '';
  const len = Math.floor(rng() * (maxLen + 1));
  for (let i = 0; i < len; i++) {
    let cp;
    const r = rng();
    if (r < 0.4) cp = pool[Math.floor(rng() * pool.length)];
    else if (r < 0.7) cp = 0x20 + Math.floor(rng() * 0x5f);
    else {
      do cp = Math.floor(rng() * 0x110000); while (cp >= 0xd800 && cp <= 0xdfff);
    }
    s += String.fromCodePoint(cp);
  }
  return s;
}

// Small seeded PRNG (mulberry32) so failures reproduce.
function mulberry32(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function trickyTemplates() {
  const templates = [];
  tricky.forEach((content, i) => {
    templates.push({ kind: 1, created_at: 1700000000 + i, tags: [], content });
    templates.push({ kind: 30023, created_at: 1700000000, tags: [['d', content], ['t', content, content]], content: 'c' });
  });
  templates.push({ kind: 0, created_at: 0, tags: [], content: '' });
  templates.push({ kind: 65535, created_at: Number.MAX_SAFE_INTEGER, tags: [[], ['']], content: 'big created_at' });
  templates.push({ kind: 1, created_at: 9999999999, tags: Array.from({ length: 500 }, (_, i) => ['p', 'a'.repeat(64), `wss://r${i}.example`, '']), content: 'many tags' });
  templates.push({ kind: 1, created_at: 1, tags: [['long', 'y'.repeat(50000)]], content: 'long tag' });
  const rng = mulberry32(2024);
  for (let i = 0; i < 300; i++) {
    const tags = Array.from({ length: Math.floor(rng() * 4) }, () =>
      Array.from({ length: Math.floor(rng() * 4) }, () => randomText(rng, 10)));
    templates.push({ kind: Math.floor(rng() * 65536), created_at: Math.floor(rng() * 2 ** 40), tags, content: randomText(rng, 60) });
  }
  return templates;
}

test('the CLI was built', () => {
  assert.ok(existsSync(cli), `missing ${cli}: build rh_nostr_cli and set RELAYHOST_TOOLS_DIR`);
});

test('serialization and ids equal nostr-tools byte for byte', () => {
  const sk = generateSecretKey();
  const events = trickyTemplates().map((t) => finalizeEvent(structuredClone(t), sk));
  const results = cliLines(['inspect'], events);
  events.forEach((ev, i) => {
    const r = results[i];
    assert.equal(r.error, undefined, `event ${i} rejected: ${r.error}`);
    assert.equal(r.serialized, serializeEvent(ev), `serialization of event ${i}`);
    assert.equal(r.id, getEventHash(ev));
    assert.equal(r.id, ev.id);
    assert.equal(r.valid, true, `event ${i} should verify in C++`);
  });
});

test('C++ detects events tampered with after nostr-tools signed them', () => {
  const sk = generateSecretKey();
  const ev = finalizeEvent({ kind: 1, created_at: 1700000000, tags: [], content: 'original' }, sk);
  const changed = { ...ev, content: 'changed' };
  const badSig = { ...ev, sig: (ev.sig[0] === 'a' ? 'b' : 'a') + ev.sig.slice(1) };
  const [a, b, c] = cliLines(['inspect'], [ev, changed, badSig]);
  assert.equal(a.valid, true);
  assert.deepEqual([b.id_matches, b.valid], [false, false]);
  assert.deepEqual([c.id_matches, c.signature_valid, c.valid], [true, false, false]);
});

test('C++ rejects what it cannot hash like JavaScript (lone surrogates, floats)', () => {
  const sk = generateSecretKey();
  const lone = finalizeEvent({ kind: 1, created_at: 1700000000, tags: [], content: 'lone \ud800 surrogate' }, sk);
  const floaty = { ...finalizeEvent({ kind: 1, created_at: 1700000000, tags: [], content: '' }, sk), created_at: 1700000000.5 };
  const [a, b] = cliLines(['inspect'], [lone, floaty]);
  assert.match(a.error, /invalid JSON .*surrogate/);
  assert.match(b.error, /created_at must be an integer/);
});

test('events signed by C++ verify in nostr-tools', () => {
  const sk = generateSecretKey();
  const templates = trickyTemplates();
  const signed = cliLines(['sign', hex(sk)], templates);
  signed.forEach((ev, i) => {
    assert.equal(ev.error, undefined, `template ${i}: ${ev.error}`);
    assert.equal(ev.pubkey, getPublicKey(sk));
    assert.equal(ev.id, getEventHash(ev), `id of template ${i}`);
    assert.equal(verifyEvent(ev), true, `signature of template ${i}`);
    assert.equal(ev.content, templates[i].content);
  });
  // nsec spelling of the key signs the same pubkey; nostr-tools rejects a tampered copy.
  const [viaNsec] = cliLines(['sign', nsecEncode(sk)], [templates[0]]);
  assert.equal(viaNsec.pubkey, getPublicKey(sk));
  // (A plain copy: spreading would carry nostr-tools' cached "verified" symbol along.)
  const tampered = JSON.parse(JSON.stringify(signed[0]));
  tampered.content += '!';
  assert.equal(verifyEvent(tampered), false);
});

test('key spellings agree with nip19', () => {
  const sk = generateSecretKey();
  const r = spawnSync(cli, ['pubkey', nsecEncode(sk)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.pubkey, getPublicKey(sk));
  assert.equal(out.npub, npubEncode(getPublicKey(sk)));
});

const url = 'https://api.relayhost.test/tenant/relays?limit=5&cursor=x%2Fy';

test('NIP-98 tokens from nostr-tools verify in C++', async () => {
  const sk = generateSecretKey();
  const sign = (e) => finalizeEvent(e, sk);
  const payload = { subdomain: 'my-relay', name: 'Mine ✓', plan: 'basic' };
  const getWithScheme = await nip98.getToken(url, 'GET', sign, true);
  const getBare = await nip98.getToken(url, 'get', sign, false);
  const post = await nip98.getToken(url, 'POST', sign, true, payload);
  const postToken = post.slice('Nostr '.length);
  const unpadded = 'Nostr ' + postToken.replace(/=+$/, '');
  const now = unixNow();
  const body = JSON.stringify(payload);
  const req = (authorization, method, extra = {}) => ({ authorization, method, url, body: '', now, ...extra });
  const results = cliLines(['nip98-verify'], [
    req(getWithScheme, 'GET'),
    req(getWithScheme, 'GET'), // GET is not replay-protected
    req('nostr   ' + getBare, 'GET'),
    req(post, 'POST', { body: body + ' ' }), // body differs from the hashed payload
    req(post, 'POST', { body }),
    req(unpadded, 'POST', { body }), // same event again, unpadded: a replay
    req(post, 'PUT', { body }),
    req(getWithScheme, 'GET', { url: url + '&z=1' }),
    req(getWithScheme, 'GET', { now: now + 120 }),
  ]);
  const pk = getPublicKey(sk);
  assert.deepEqual(results[0], { ok: true, pubkey: pk, error: '' });
  assert.deepEqual(results[1], { ok: true, pubkey: pk, error: '' });
  assert.deepEqual(results[2], { ok: true, pubkey: pk, error: '' });
  assert.equal(results[3].error, 'payload tag does not match the body hash');
  assert.deepEqual(results[4], { ok: true, pubkey: pk, error: '' });
  assert.match(results[5].error, /^token already used \(replay\)/);
  assert.equal(results[6].error, 'method tag does not match the request method');
  assert.match(results[7].error, /^u tag does not match the request URL/);
  assert.match(results[8].error, /^created_at outside ±60 s/);
  assert.ok(postToken.length % 4 === 0 && unpadded.length < post.length, 'the token had padding to strip');
});

test('NIP-98 tokens from C++ verify in nostr-tools', async () => {
  const sk = generateSecretKey();
  const payload = { nwc_url: null };
  const now = unixNow();
  const [get, put] = cliLines(['nip98-sign', hex(sk)], [
    { url, method: 'GET', body: '', created_at: now },
    { url, method: 'PUT', body: JSON.stringify(payload), created_at: now },
  ]);
  for (const { authorization } of [get, put]) {
    assert.match(authorization, /^Nostr [A-Za-z0-9+/]+={0,2}$/);
    assert.equal((authorization.length - 6) % 4, 0, 'padded base64');
  }
  assert.equal(await nip98.validateToken(get.authorization, url, 'GET'), true);
  assert.equal(await nip98.validateToken(put.authorization, url, 'PUT'), true);
  const putEvent = await nip98.unpackEventFromToken(put.authorization);
  assert.equal(verifyEvent(putEvent), true);
  assert.equal(await nip98.validateEvent(putEvent, url, 'PUT', payload), true);
  assert.equal(nip98.validateEventPayloadTag(putEvent, payload), true);
  await assert.rejects(nip98.validateEvent(putEvent, url, 'PUT', { nwc_url: 'x' }), /payload/);
  await assert.rejects(nip98.validateToken(get.authorization, url + '/x', 'GET'), /url/);
  // And the C++ verifier accepts its own tokens.
  const [a, b] = cliLines(['nip98-verify'], [
    { authorization: get.authorization, method: 'GET', url, body: '', now },
    { authorization: put.authorization, method: 'PUT', url, body: JSON.stringify(payload), now },
  ]);
  assert.equal(a.ok, true, a.error);
  assert.equal(b.ok, true, b.error);
});

test('NIP-44 payloads round-trip between nostr-tools and C++', () => {
  const skA = generateSecretKey();
  const skB = generateSecretKey();
  const pkA = getPublicKey(skA);
  const pkB = getPublicKey(skB);
  const texts = ['a', 'hello \u2028 😀 "quoted"', 'x'.repeat(65535), 'y'.repeat(65536), '🦄'.repeat(30000)];
  // nostr-tools encrypts, C++ decrypts.
  const ck = nip44.v2.utils.getConversationKey(skA, pkB);
  const decrypted = cliLines(['nip44-decrypt', hex(skB)],
    texts.map((plaintext) => ({ pubkey: pkA, payload: nip44.v2.encrypt(plaintext, ck) })));
  decrypted.forEach((r, i) => assert.equal(r.plaintext, texts[i], `text ${i}: ${r.error}`));
  // C++ encrypts, nostr-tools decrypts.
  const encrypted = cliLines(['nip44-encrypt', hex(skB)], texts.map((plaintext) => ({ pubkey: pkA, plaintext })));
  encrypted.forEach((r, i) => assert.equal(nip44.v2.decrypt(r.payload, ck), texts[i], `text ${i}`));
  // A payload for someone else fails the MAC.
  const [wrong] = cliLines(['nip44-decrypt', hex(skB)], [{ pubkey: pkB, payload: encrypted[0].payload }]);
  assert.equal(wrong.error, 'invalid MAC');
});

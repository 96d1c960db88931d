// Cross-checks relayhost's NIP-04, NIP-59 gift wrap / NIP-17 DMs and relay URL
// normalisation (through tests/tools/nostr_cli.cpp) against nostr-tools, both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import * as nip04 from 'nostr-tools/nip04';
import * as nip17 from 'nostr-tools/nip17';
import * as nip59 from 'nostr-tools/nip59';
import { normalizeURL } from 'nostr-tools/utils';

const cli = path.join(process.env.RELAYHOST_TOOLS_DIR ?? '', 'rh_nostr_cli');
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const now = () => Math.floor(Date.now() / 1000);
const TWO_DAYS = 2 * 24 * 3600;

function cliLines(args, inputs) {
  const r = spawnSync(cli, args, {
    input: inputs.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `rh_nostr_cli ${args[0]} failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, inputs.length);
  return lines.map((l) => JSON.parse(l));
}

const texts = ['hi', 'Grüße, 你好 and 🎉 emoji', 'x'.repeat(1000), 'line\nbreaks\tand "quotes" \\ too'];

test('NIP-04: relayhost encrypts, nostr-tools decrypts, and the other way round', async () => {
  const a = generateSecretKey();
  const b = generateSecretKey();
  const encrypted = cliLines(['nip04-encrypt', hex(a)], texts.map((plaintext) => ({ pubkey: getPublicKey(b), plaintext })));
  for (const [i, r] of encrypted.entries()) {
    assert.match(r.payload, /^[A-Za-z0-9+/=]+\?iv=[A-Za-z0-9+/=]{24}$/);
    assert.equal(await nip04.decrypt(b, getPublicKey(a), r.payload), texts[i]);
  }
  const fromTools = await Promise.all(texts.map((t) => nip04.encrypt(b, getPublicKey(a), t)));
  const decrypted = cliLines(['nip04-decrypt', hex(a)], fromTools.map((payload) => ({ pubkey: getPublicKey(b), payload })));
  decrypted.forEach((r, i) => assert.equal(r.plaintext, texts[i], r.error));
  // Two encryptions of one text differ (fresh IV).
  const twice = cliLines(['nip04-encrypt', hex(a)], [{ pubkey: getPublicKey(b), plaintext: 'same' }, { pubkey: getPublicKey(b), plaintext: 'same' }]);
  assert.notEqual(twice[0].payload, twice[1].payload);
  // Bad payloads are errors, never plaintext.
  const bad = cliLines(['nip04-decrypt', hex(a)], [
    { pubkey: getPublicKey(b), payload: 'no-iv-marker' },
    { pubkey: getPublicKey(b), payload: `${fromTools[0].split('?')[0]}?iv=AAAA` },
    { pubkey: getPublicKey(b), payload: `!!!?iv=${fromTools[0].split('?iv=')[1]}` },
    { pubkey: getPublicKey(generateSecretKey()), payload: fromTools[2] },  // the wrong key: bad padding (almost always)
  ]);
  for (const r of bad.slice(0, 3)) assert.ok(r.error && r.plaintext === undefined, JSON.stringify(r));
  assert.ok(bad[3].error || bad[3].plaintext !== texts[2]);
});

test('gift wraps from relayhost open with nostr-tools: sender, kind 14, p tag, text, timestamps, fresh keys', () => {
  const platform = generateSecretKey();
  const tenant = generateSecretKey();
  const t = now();
  const wraps = cliLines(['wrap-dm', hex(platform)], texts.map((text) => ({ recipient: getPublicKey(tenant), text, now: t })));
  const wrapKeys = new Set();
  for (const [i, wrap] of wraps.entries()) {
    assert.equal(wrap.kind, 1059);
    assert.ok(verifyEvent(wrap), 'the wrap verifies');
    assert.deepEqual(wrap.tags, [['p', getPublicKey(tenant)]]);
    assert.notEqual(wrap.pubkey, getPublicKey(platform));
    wrapKeys.add(wrap.pubkey);
    assert.ok(wrap.created_at <= t && wrap.created_at >= t - TWO_DAYS, `wrap created_at ${t - wrap.created_at} s ago`);
    const rumor = nip17.unwrapEvent(wrap, tenant);
    assert.equal(rumor.kind, 14);
    assert.equal(rumor.pubkey, getPublicKey(platform));
    assert.equal(rumor.content, texts[i]);
    assert.equal(rumor.created_at, t);
    assert.deepEqual(rumor.tags.filter((x) => x[0] === 'p'), [['p', getPublicKey(tenant)]]);
    // nip59's generic unwrap (seal → rumor) agrees with nip17's.
    assert.equal(nip59.unwrapEvent(wrap, tenant).id, rumor.id);
  }
  assert.equal(wrapKeys.size, wraps.length, 'a fresh key per wrap');
  // Someone else cannot open it.
  assert.throws(() => nip17.unwrapEvent(wraps[0], generateSecretKey()));
});

test('gift wraps from nostr-tools open with relayhost, and tampering is refused', () => {
  const alice = generateSecretKey();
  const platform = generateSecretKey();
  const wrap = nip17.wrapEvent(alice, { publicKey: getPublicKey(platform) }, 'a reply from a tenant 🎉');
  const [opened] = cliLines(['unwrap-dm', hex(platform)], [wrap]);
  assert.equal(opened.error, undefined, opened.error);
  assert.equal(opened.sender, getPublicKey(alice));
  assert.equal(opened.kind, 14);
  assert.equal(opened.text, 'a reply from a tenant 🎉');
  assert.equal(opened.p, getPublicKey(platform));
  assert.ok(opened.seal_created_at <= now() && opened.seal_created_at >= now() - TWO_DAYS - 5);
  const tampered = { ...wrap, content: wrap.content.slice(0, -4) + 'AAA=' };
  const forged = { ...wrap, tags: [['p', getPublicKey(generateSecretKey())]] };
  const results = cliLines(['unwrap-dm', hex(platform)], [tampered, forged, { ...wrap, kind: 1 }]);
  for (const r of results) assert.ok(r.error, JSON.stringify(r));
  const [wrongKey] = cliLines(['unwrap-dm', hex(generateSecretKey())], [wrap]);
  assert.ok(wrongKey.error);
});

test('relay URLs: one relay is one URL however it is spelled (agrees with nostr-tools where both accept)', () => {
  const spellings = [
    ['wss://Relay.Example.com/', 'wss://relay.example.com'],
    ['WSS://relay.example.com:443', 'wss://relay.example.com'],
    ['ws://relay.example.com:80/', 'ws://relay.example.com'],
    ['wss://relay.example.com:4443/path/', 'wss://relay.example.com:4443/path'],
    ['ws://127.0.0.1:7777', 'ws://127.0.0.1:7777'],
    ['wss://[::1]:8443/', 'wss://[::1]:8443'],
  ];
  const out = cliLines(['relay-url'], spellings.map(([url]) => ({ url })));
  out.forEach((r, i) => {
    assert.equal(r.normalized, spellings[i][1], JSON.stringify(r));
    assert.equal(normalizeURL(spellings[i][0]).replace(/\/$/, ''), r.normalized.replace(/\/$/, ''));
  });
  const bad = cliLines(['relay-url'], ['https://relay.example.com', 'wss://', 'wss://user@relay.example.com',
    'wss://relay.example.com#frag', 'wss://relay.example.com:0', 'wss://relay.example.com:65536', 'wss://re lay.example']
    .map((url) => ({ url })));
  for (const r of bad) assert.ok(r.error, JSON.stringify(r));
});

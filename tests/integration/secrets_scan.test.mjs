// The secret scan every other integration test relies on (lib/secrets.mjs): it
// finds a secret in hex (either case) and nsec form, in a response, in the output
// and in the metrics; and the real binary's output, responses and metrics hold
// none of the secrets it was given (platform key, platform wallet, a tenant wallet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as nip19 from 'nostr-tools/nip19';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { assertNoSecret, findSecret, registerSecret } from './lib/secrets.mjs';

test('the scan finds a registered secret in every form and nothing else', () => {
  const hex = randomBytes(32).toString('hex');
  registerSecret(hex, 'a test secret');
  assert.match(findSecret(`log line ${hex} end`), /a test secret/);
  assert.match(findSecret(hex.toUpperCase()), /a test secret/);
  assert.match(findSecret(`x ${nip19.nsecEncode(Uint8Array.from(Buffer.from(hex, 'hex')))} y`), /nsec/);
  assert.equal(findSecret(hex.slice(0, 63)), null);
  assert.equal(findSecret(getPublicKey(Buffer.from(hex, 'hex'))), null, 'the public key is not a secret');
  assert.throws(() => assertNoSecret(`{"x":"${hex}"}`, 'a response'), /a secret appears in a response/);
});

test('relayhost leaks none of its secrets, and the scan of its output would catch one', async () => {
  const platform = Buffer.from(generateSecretKey()).toString('hex');
  const rh = await Relayhost.start({
    env: { PLATFORM_SECRET: platform, ZOOID_API_URL: 'http://127.0.0.1:1', RELAY_DOMAIN: 'spaces.test', LOG_LEVEL: 'debug' },
  });
  const tenant = new Client(rh);
  const wallet = `nostr+walletconnect://${getPublicKey(generateSecretKey())}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=${randomBytes(32).toString('hex')}`;
  assert.equal((await tenant.put('/tenant/billing', { nwc_url: wallet })).status, 200);  // scanned by Client
  assert.equal((await tenant.post('/tenant/relays', { subdomain: 'scanned', name: 's', plan: 'free' })).status, 201);
  await rh.stop();  // scans /metrics and the output
  rh.output += `\nsomething printed ${platform}`;
  assert.throws(() => rh.checkOutput(), /a secret appears in relayhost output: PLATFORM_SECRET/);
  rh.cleanup();
});

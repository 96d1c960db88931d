// Every secret the tests know of (the platform key, tenants' NWC secrets, relay
// keys zooid received), and a scan for any of them in hex or bech32 form. The
// shared helpers scan what relayhost says: each API response (lib/client.mjs),
// and at every stop its whole output (log lines) and a last /metrics scrape
// (lib/relayhost.mjs). A secret in any of them fails the test that saw it.
import * as nip19 from 'nostr-tools/nip19';

const secrets = new Map(); // form → what it is

export function registerSecret(hex, what) {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) return;
  const lower = hex.toLowerCase();
  secrets.set(lower, what);
  secrets.set(lower.toUpperCase(), what);
  secrets.set(nip19.nsecEncode(Uint8Array.from(Buffer.from(lower, 'hex'))), `${what} (nsec)`);
}

/// The first known secret `text` contains, as "what (form)", or null.
export function findSecret(text) {
  if (!text) return null;
  for (const [form, what] of secrets) if (text.includes(form)) return `${what}: ${form.slice(0, 8)}…`;
  return null;
}

export function assertNoSecret(text, where) {
  const found = findSecret(text);
  if (found) throw new Error(`a secret appears in ${where}: ${found}`);
}

/// The secret of a nostr+walletconnect URI (registered when a test hands it over).
export function registerNwcUri(uri, what = 'an NWC secret') {
  const m = /[?&]secret=([0-9a-fA-F]{64})/.exec(uri ?? '');
  if (m) registerSecret(m[1], what);
}

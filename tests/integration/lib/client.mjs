// A tenant or admin as the API sees it: a Nostr key that signs every request with
// NIP-98 through nostr-tools (`nip98.getToken`), the way a real client does.
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure';
import * as nip98 from 'nostr-tools/nip98';
import { randomBytes } from 'node:crypto';
import { assertNoSecret, registerNwcUri } from './secrets.mjs';

export class Client {
  constructor(rh, secretKey = generateSecretKey()) {
    this.rh = rh;
    this.sk = secretKey;
    this.pubkey = getPublicKey(secretKey);
  }

  /// Signs like nostr-tools does, plus a random nonce tag so that two identical
  /// writes in the same second are distinct events (api.md, replay protection).
  async token(url, method, body) {
    const sign = (e) => finalizeEvent({ ...e, tags: [...e.tags, ['nonce', randomBytes(8).toString('hex')]] }, this.sk);
    return nip98.getToken(url, method, sign, true, body);
  }

  /// method, path (with query), body object (sent as JSON.stringify, hashed into `payload`).
  async req(method, path, body, { headers = {} } = {}) {
    const url = `${this.rh.baseUrl}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (body && typeof body === 'object' && typeof body.nwc_url === 'string') registerNwcUri(body.nwc_url);
    const auth = await this.token(url, method, body);
    const res = await fetch(url, {
      method,
      headers: { authorization: auth, ...(text !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: text,
    });
    const raw = await res.text();
    assertNoSecret(raw, `the response to ${method} ${path}`);
    let json;
    try { json = JSON.parse(raw); } catch { json = undefined; }
    return { status: res.status, json, raw, headers: res.headers };
  }

  get(path) { return this.req('GET', path); }
  post(path, body) { return this.req('POST', path, body); }
  put(path, body) { return this.req('PUT', path, body); }
  del(path) { return this.req('DELETE', path); }
}

// The zooid stand-in (lib/zooid_standin.mjs) is as strict as zooid.md says zooid is: NIP-98 in
// zooid's order, whitelist, Host routing, routes and their messages, deep-merge PATCH,
// uniqueness, validation, crash flags, and the outage controls (stop/restart/setFailure).
// Tokens are built by hand with finalizeEvent so padding, `u`, method and signer are controlled.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import * as nip98 from 'nostr-tools/nip98';
import { startZooid } from './lib/zooid_standin.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const now = () => Math.floor(Date.now() / 1000);

const platformSk = generateSecretKey();
const platformPk = getPublicKey(platformSk);
const strangerSk = generateSecretKey();
const tenantPk = getPublicKey(generateSecretKey());
const adminPk = getPublicKey(generateSecretKey());
const CURVE_ORDER = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';
// Bitcoin's genesis block hash: 64 hex digits that are not the x coordinate of any point.
const NOT_ON_CURVE = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';

function relayConfig(sub, overrides = {}) {
  return {
    host: `${sub}.spaces.example`,
    schema: sub.replace(/-/g, '_'),
    secret: hex(generateSecretKey()),
    inactive: false,
    info: { name: sub, icon: 'https://example.com/i.png', pubkey: tenantPk, description: 'd' },
    policy: { public_join: false, strip_signatures: false },
    groups: { enabled: true },
    push: { enabled: true },
    management: { enabled: true },
    blossom: { enabled: false },
    livekit: { server_url: '', api_key: '', api_secret: '' },
    roles: {
      member: { pubkeys: [], can_invite: true, can_manage: false },
      admin: { pubkeys: [adminPk], can_invite: false, can_manage: true },
    },
    ...overrides,
  };
}

/// A kind-27235 event signed by `sk`; `tags` replaces the default u/method/payload tags.
function authEvent({ sk = platformSk, url, method, body, kind = 27235, tags, content = '', createdAt = now() }) {
  const t = tags ?? [['u', url], ['method', method], ...(body ? [['payload', sha256(body)]] : [])];
  return finalizeEvent({ kind, created_at: createdAt, tags: t, content }, sk);
}

const b64 = (s) => Buffer.from(s).toString('base64');
const nostrHeader = (event) => `Nostr ${b64(JSON.stringify(event))}`;

/// One HTTP exchange. `auth`: a header string, null for none, or undefined to sign a correct
/// token for `as` (default the platform key). Resolves {status, headers, text, json, reused}.
function call(z, method, target, { body, auth, as = platformSk, host = z.apiHost, headers = {}, timeoutMs = 5000, agent, proto = 'http' } = {}) {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (auth === undefined) {
    const url = `${proto}://${host}${target.split('?')[0]}`;
    auth = nostrHeader(authEvent({ sk: as, url, method, body: text }));
  }
  const h = { host, ...headers };
  if (auth !== null) h.authorization = auth;
  if (text !== undefined) { h['content-type'] = 'application/json'; h['content-length'] = Buffer.byteLength(text); }
  const mod = z.url.startsWith('https') ? https : http;
  return new Promise((resolve, reject) => {
    // agent false by default: a fresh connection per call (Node 20's global agent keeps them alive).
    const req = mod.request(`${z.url}${target}`, { method, headers: h, agent: agent ?? false, rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text: data, json, reused: req.reusedSocket });
      });
    });
    req.on('timeout', () => { req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })); });
    req.on('error', reject);
    if (text !== undefined) req.write(text);
    req.end();
  });
}

/// Asserts a JSON answer of zooid's shape: the status, Content-Type, and {error}/{message}.
function expectJson(res, status, key, message) {
  assert.equal(res.status, status, `${res.status} ${res.text}`);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.ok(res.text.endsWith('}\n'), 'Go json.Encoder ends with a newline');
  assert.deepEqual(Object.keys(res.json), [key]);
  if (message instanceof RegExp) assert.match(res.json[key], message);
  else if (message !== undefined) assert.equal(res.json[key], message);
}
const expectError = (res, status, message) => expectJson(res, status, 'error', message);
const expectMessage = (res, status, message) => expectJson(res, status, 'message', message);

/// Auth passed when a DELETE of an unknown id reaches the route: 404 "relay not found".
const expectAuthPassed = (res) => expectError(res, 404, 'relay not found');

describe('NIP-98, checked in zooid order, each failure a 401', () => {
  let z;
  let url;
  const target = '/relay/nothing-here';
  before(async () => {
    z = await startZooid({ whitelist: [platformPk] });
    url = `http://${z.apiHost}${target}`;
  });
  after(() => z.stop());

  test('a correct token passes (control for everything below)', async () => {
    expectAuthPassed(await call(z, 'DELETE', target));
  });

  test('missing header', async () => {
    expectError(await call(z, 'DELETE', target, { auth: null }), 401, 'missing authorization header');
    expectError(await call(z, 'DELETE', target, { auth: '' }), 401, 'missing authorization header');
  });

  test('not the "Nostr <b64>" form', async () => {
    const tok = b64(JSON.stringify(authEvent({ url, method: 'DELETE' })));
    expectError(await call(z, 'DELETE', target, { auth: `Bearer ${tok}` }), 401, 'invalid authorization header format');
    expectError(await call(z, 'DELETE', target, { auth: `Nostr${tok}` }), 401, 'invalid authorization header format');
    // zooid lowercases the scheme before comparing: "nostr" and "NOSTR" are the same scheme.
    expectAuthPassed(await call(z, 'DELETE', target, { auth: `nostr ${tok}` }));
    // Only one space: a second one becomes part of the base64.
    expectError(await call(z, 'DELETE', target, { auth: `Nostr  ${tok}` }), 401, /^invalid base64 encoding: /);
  });

  test('base64 must be standard and padded: the unpadded form of a valid token is refused', async () => {
    let ev;
    let tok;
    for (let pad = 0; ; pad++) { // vary the content until the encoding needs padding
      ev = authEvent({ url, method: 'DELETE', content: 'x'.repeat(pad) });
      tok = b64(JSON.stringify(ev));
      if (tok.endsWith('=')) break;
    }
    expectAuthPassed(await call(z, 'DELETE', target, { auth: `Nostr ${tok}` }));
    expectError(await call(z, 'DELETE', target, { auth: `Nostr ${tok.replace(/=+$/, '')}` }), 401, /^invalid base64 encoding: illegal base64 data at input byte \d+$/);
    const urlSafe = Buffer.from(JSON.stringify(ev)).toString('base64url');
    expectError(await call(z, 'DELETE', target, { auth: `Nostr ${urlSafe}` }), 401, /^invalid base64 encoding: /);
  });

  test('the decoded bytes must be event JSON', async () => {
    expectError(await call(z, 'DELETE', target, { auth: `Nostr ${b64('not json')}` }), 401, /^invalid event json: /);
    expectError(await call(z, 'DELETE', target, { auth: `Nostr ${b64('[1,2]')}` }), 401, /^invalid event json: /);
    expectError(await call(z, 'DELETE', target, { auth: `Nostr ${b64('')}X` }), 401, /^invalid base64 encoding: /);
    // Header values lose trailing spaces (Go's textproto as Node's parser): "Nostr " is "Nostr".
    expectError(await call(z, 'DELETE', target, { auth: 'Nostr ' }), 401, 'invalid authorization header format');
  });

  test('kind must be 27235', async () => {
    const ev = authEvent({ url, method: 'DELETE', kind: 1 });
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(ev) }), 401, 'invalid event kind: expected 27235, got 1');
  });

  test('id and signature must be valid', async () => {
    const ev = authEvent({ url, method: 'DELETE' });
    const badSig = { ...ev, sig: ev.sig.slice(0, -1) + (ev.sig.endsWith('0') ? '1' : '0') };
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(badSig) }), 401, 'invalid event signature');
    const badId = { ...ev, id: ev.id.slice(0, -1) + (ev.id.endsWith('0') ? '1' : '0') };
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(badId) }), 401, 'invalid event signature');
    const altered = { ...ev, created_at: ev.created_at + 1 }; // signed content changed after signing
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(altered) }), 401, 'invalid event signature');
  });

  test('the u tag is http://<Host><path> with no query string', async () => {
    const withQuery = authEvent({ url: `${url}?x=1`, method: 'DELETE' });
    expectError(await call(z, 'DELETE', `${target}?x=1`, { auth: nostrHeader(withQuery) }), 401, 'event missing or invalid u tag');
    // The query of the request takes no part: a u without it passes.
    expectAuthPassed(await call(z, 'DELETE', `${target}?x=1`, { auth: nostrHeader(authEvent({ url, method: 'DELETE' })) }));
    const cases = [
      `https://${z.apiHost}${target}`,
      `http://localhost:${z.port}${target}`,
      `http://${z.apiHost}${target}/`,
      `http://${z.apiHost}/relay/other`,
    ];
    for (const u of cases) {
      expectError(await call(z, 'DELETE', target, { auth: nostrHeader(authEvent({ url: u, method: 'DELETE' })) }), 401, 'event missing or invalid u tag', u);
    }
    const noU = authEvent({ tags: [['method', 'DELETE']] });
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(noU) }), 401, 'event missing or invalid u tag');
  });

  test('https in the u tag exactly when X-Forwarded-Proto: https', async () => {
    const httpsEv = authEvent({ url: `https://${z.apiHost}${target}`, method: 'DELETE' });
    expectAuthPassed(await call(z, 'DELETE', target, { auth: nostrHeader(httpsEv), headers: { 'x-forwarded-proto': 'https' } }));
    const httpEv = authEvent({ url, method: 'DELETE' });
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(httpEv), headers: { 'x-forwarded-proto': 'https' } }), 401, 'event missing or invalid u tag');
  });

  test('the method tag must name the method (any case)', async () => {
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(authEvent({ url, method: 'PATCH' })) }), 401, 'event missing or invalid method tag');
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(authEvent({ tags: [['u', url]] })) }), 401, 'event missing or invalid method tag');
    expectAuthPassed(await call(z, 'DELETE', target, { auth: nostrHeader(authEvent({ url, method: 'delete' })) }));
  });

  test('checks run in order: the first failing one is reported', async () => {
    // wrong kind AND wrong u AND wrong method → kind
    const a = authEvent({ url: 'http://elsewhere/', method: 'GET', kind: 1 });
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(a) }), 401, /^invalid event kind/);
    // bad signature AND wrong u → signature
    const b = authEvent({ url: 'http://elsewhere/', method: 'GET' });
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader({ ...b, content: 'changed' }) }), 401, 'invalid event signature');
    // wrong u AND wrong method → u
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(b) }), 401, 'event missing or invalid u tag');
    // a stranger with a bad method tag: 401 before the whitelist's 403
    const c = authEvent({ sk: strangerSk, url, method: 'GET' });
    expectError(await call(z, 'DELETE', target, { auth: nostrHeader(c) }), 401, 'event missing or invalid method tag');
  });

  test('a valid token from a key outside the whitelist is 403', async () => {
    expectError(await call(z, 'DELETE', target, { as: strangerSk }), 403, 'pubkey not in whitelist');
    expectError(await call(z, 'POST', '/relay/x', { as: strangerSk, body: relayConfig('x') }), 403, 'pubkey not in whitelist');
    assert.equal(z.configs.size, 0);
  });

  test('auth comes before the path: a bad token on a bad path is 401, a good one 404', async () => {
    expectError(await call(z, 'GET', '/nope', { auth: null }), 401, 'missing authorization header');
    expectError(await call(z, 'GET', '/nope'), 404, 'not found');
  });

  test('created_at and payload are not checked, but the payload tag is recorded', async () => {
    expectAuthPassed(await call(z, 'DELETE', target, { auth: nostrHeader(authEvent({ url, method: 'DELETE', createdAt: 1000 })) }));
    z.clearCalls();
    const body = JSON.stringify(relayConfig('paid'));
    const wrongPayload = authEvent({ tags: [['u', url], ['method', 'DELETE'], ['payload', sha256('something else')]] });
    expectAuthPassed(await call(z, 'DELETE', target, { body, auth: nostrHeader(wrongPayload) }));
    expectAuthPassed(await call(z, 'DELETE', target, { body }));
    expectAuthPassed(await call(z, 'DELETE', target, { auth: nostrHeader(authEvent({ url, method: 'DELETE' })) }));
    assert.deepEqual(z.calls.map((c) => [c.hasPayloadTag, c.payloadMatches]), [[true, false], [true, true], [false, null]]);
    assert.ok(z.calls.every((c) => c.pubkey === platformPk && c.authError === null));
  });

  test("nostr-tools' nip98.getToken is accepted and its payload hash matches the body sent", async () => {
    const cfg = relayConfig('via-nip98');
    const tok = await nip98.getToken(`http://${z.apiHost}/relay/via-nip98`, 'POST', (e) => finalizeEvent(e, platformSk), true, cfg);
    z.clearCalls();
    expectMessage(await call(z, 'POST', '/relay/via-nip98', { body: JSON.stringify(cfg), auth: tok }), 201, 'relay created successfully');
    assert.equal(z.calls[0].payloadMatches, true);
  });
});

describe('Host routing, paths and methods', () => {
  let z;
  before(async () => { z = await startZooid({ whitelist: `${platformPk}, ${adminPk}` }); });
  after(() => z.stop());

  test('apiHost and url describe the listener', () => {
    assert.equal(z.apiHost, `127.0.0.1:${z.port}`);
    assert.equal(z.url, `http://127.0.0.1:${z.port}`);
  });

  test('only a Host exactly equal to the API host reaches the API; others are a 404 like an unknown relay', async () => {
    for (const host of [`localhost:${z.port}`, '127.0.0.1', `127.0.0.1:${z.port + 1}`, 'a.spaces.example']) {
      const res = await call(z, 'POST', '/relay/x', { host, body: relayConfig('x') });
      assert.equal(res.status, 404, host);
      // net/http's http.Error, as zooid answers for a host it does not serve
      assert.equal(res.text, 'Not Found\n');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    }
    assert.equal(z.configs.size, 0);
    assert.ok(z.calls.every((c) => c.api === false && c.status === 404));
  });

  test('GET and other methods are 405', async () => {
    expectError(await call(z, 'GET', '/relay/x'), 405, 'method not allowed');
    expectError(await call(z, 'OPTIONS', '/relay/x'), 405, 'method not allowed');
  });

  test('paths: /relay/ is 400, anything not /relay/... is 404', async () => {
    expectError(await call(z, 'POST', '/relay/', { body: relayConfig('x') }), 400, 'relay id is required');
    expectError(await call(z, 'GET', '/relay/'), 400, 'relay id is required'); // the id is checked before the method
    for (const p of ['/', '/relay', '/relays/x', '/api/relay/x', '//relay/x']) {
      expectError(await call(z, 'POST', p, { body: relayConfig('x') }), 404, 'not found');
    }
    const bad = await call(z, 'DELETE', '/relay/%zz');
    assert.equal(bad.status, 400, 'Go refuses a malformed escape before any handler');
  });

  test('an empty whitelist turns the API off', async () => {
    const off = await startZooid({ whitelist: '' });
    try {
      const res = await call(off, 'POST', '/relay/x', { body: relayConfig('x') });
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Not Found\n');
    } finally {
      await off.stop();
    }
  });
});

describe('POST, PUT, PATCH, DELETE', () => {
  let z;
  before(async () => { z = await startZooid({ whitelist: [platformPk] }); });
  after(() => z.stop());

  test('POST creates (201); the same id again is 409, checked before the body', async () => {
    const cfg = relayConfig('alpha');
    expectMessage(await call(z, 'POST', '/relay/r-alpha', { body: cfg }), 201, 'relay created successfully');
    assert.deepEqual(z.configs.get('r-alpha'), cfg);
    expectError(await call(z, 'POST', '/relay/r-alpha', { body: relayConfig('alpha') }), 409, 'relay with this id already exists');
    expectError(await call(z, 'POST', '/relay/r-alpha', { body: 'not json' }), 409, 'relay with this id already exists');
  });

  test('POST: schema and host are unique across configs (409, zooid wording)', async () => {
    expectError(await call(z, 'POST', '/relay/r-alpha2', { body: relayConfig('alpha', { host: 'other.spaces.example' }) }), 409, 'schema "alpha" is already in use');
    expectError(await call(z, 'POST', '/relay/r-alpha3', { body: relayConfig('alpha3', { host: 'alpha.spaces.example' }) }), 409, 'host "alpha.spaces.example" is already in use');
    assert.deepEqual([...z.configs.keys()], ['r-alpha']);
  });

  test('the configs map holds deep copies', async () => {
    z.configs.get('r-alpha').host = 'mutated';
    assert.equal(z.configs.get('r-alpha').host, 'alpha.spaces.example');
  });

  test('PUT replaces a whole config (200); secret required; unknown id 404', async () => {
    expectError(await call(z, 'PUT', '/relay/r-none', { body: relayConfig('none') }), 404, 'relay not found');
    const { secret, ...noSecret } = relayConfig('alpha');
    expectError(await call(z, 'PUT', '/relay/r-alpha', { body: noSecret }), 400, 'secret is required');
    const replacement = { host: 'alpha.spaces.example', schema: 'alpha', secret, info: { pubkey: tenantPk } };
    expectMessage(await call(z, 'PUT', '/relay/r-alpha', { body: replacement }), 200, 'relay updated successfully');
    assert.deepEqual(z.configs.get('r-alpha'), replacement);
  });

  test('PUT checks uniqueness against the other configs only', async () => {
    expectMessage(await call(z, 'POST', '/relay/r-beta', { body: relayConfig('beta') }), 201);
    expectError(await call(z, 'PUT', '/relay/r-beta', { body: relayConfig('alpha', { host: 'beta.spaces.example' }) }), 409, 'schema "alpha" is already in use');
    expectMessage(await call(z, 'PUT', '/relay/r-beta', { body: relayConfig('beta') }), 200, 'relay updated successfully');
  });

  test('PATCH deep-merges: objects key by key, null deletes, arrays and scalars replace', async () => {
    const base = relayConfig('gamma');
    expectMessage(await call(z, 'POST', '/relay/r-gamma', { body: base }), 201);
    const newAdmin = getPublicKey(generateSecretKey());
    const patch = {
      inactive: true,
      info: { name: 'Renamed', icon: null },
      roles: { admin: { pubkeys: [newAdmin] } },
      policy: { public_join: true },
      livekit: null,
      extra: { kept: 1 },
    };
    expectMessage(await call(z, 'PATCH', '/relay/r-gamma', { body: patch }), 200, 'relay patched successfully');
    const got = z.configs.get('r-gamma');
    assert.equal(got.inactive, true);
    assert.deepEqual(got.info, { name: 'Renamed', pubkey: tenantPk, description: 'd' });
    assert.deepEqual(got.roles.admin, { pubkeys: [newAdmin], can_invite: false, can_manage: true });
    assert.deepEqual(got.roles.member, base.roles.member);
    assert.deepEqual(got.policy, { public_join: true, strip_signatures: false });
    assert.equal('livekit' in got, false);
    assert.deepEqual(got.extra, { kept: 1 }, 'unknown fields are ignored by zooid, kept here for inspection');
    assert.equal(got.secret, base.secret, 'PATCH without a secret keeps it');
    assert.ok(z.calls.at(-1).warnings.some((w) => w.includes('"extra"')));
    // An array replaces, even by an empty one.
    expectMessage(await call(z, 'PATCH', '/relay/r-gamma', { body: { roles: { admin: { pubkeys: [] } } } }), 200);
    assert.deepEqual(z.configs.get('r-gamma').roles.admin.pubkeys, []);
  });

  test('PATCH validates the merged config and leaves it untouched on failure', async () => {
    const before = z.configs.get('r-gamma');
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: { secret: null } }), 400, 'secret is required');
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: { host: '' } }), 400, 'host is required');
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: { info: { pubkey: NOT_ON_CURVE } } }), 400, /^invalid info\.pubkey: /);
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: { secret: '00'.repeat(32) } }), 400, /^invalid secret key/);
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: { inactive: 'yes' } }), 400, /^json: cannot unmarshal string into Go struct field Config\.inactive of type bool$/);
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: '{"inactive": tru' }), 400, /^invalid json: /);
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: [] }), 400, /^invalid json: json: cannot unmarshal array/);
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: '' }), 400, 'invalid json: unexpected end of JSON input');
    assert.deepEqual(z.configs.get('r-gamma'), before);
    expectError(await call(z, 'PATCH', '/relay/r-none', { body: { inactive: true } }), 404, 'relay not found');
  });

  test('PATCH re-checks schema and host uniqueness', async () => {
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: { schema: 'beta' } }), 409, 'schema "beta" is already in use');
    expectError(await call(z, 'PATCH', '/relay/r-gamma', { body: { host: 'beta.spaces.example' } }), 409, 'host "beta.spaces.example" is already in use');
    // Its own schema and host are no clash.
    expectMessage(await call(z, 'PATCH', '/relay/r-gamma', { body: { schema: 'gamma', host: 'gamma.spaces.example' } }), 200);
  });

  test('DELETE removes (200), then 404; the schema and host are free again', async () => {
    expectMessage(await call(z, 'DELETE', '/relay/r-beta'), 200, 'relay deleted successfully');
    expectError(await call(z, 'DELETE', '/relay/r-beta'), 404, 'relay not found');
    assert.equal(z.configs.has('r-beta'), false);
    expectMessage(await call(z, 'POST', '/relay/r-beta-2', { body: relayConfig('beta') }), 201);
  });

  test('no crash flag was raised by any of the above', () => {
    assert.deepEqual(z.crashFlags, []);
  });
});

describe('validation (400) and the 1 MiB body cap', () => {
  let z;
  before(async () => { z = await startZooid({ whitelist: [platformPk] }); });
  after(() => z.stop());

  const cases = [
    ['empty object', {}, 'host is required'],
    ['null body', 'null', 'host is required'],
    ['empty host', relayConfig('v', { host: '' }), 'host is required'],
    ['no schema', relayConfig('v', { schema: undefined }), 'schema is required'],
    ['schema starting with a digit', relayConfig('v', { schema: '1v' }), 'schema must contain only letters, numbers, and underscores'],
    ['schema with a dash', relayConfig('v', { schema: 'v-x' }), 'schema must contain only letters, numbers, and underscores'],
    ['no secret', relayConfig('v', { secret: undefined }), 'secret is required'],
    ['non-hex secret', relayConfig('v', { secret: 'zz'.repeat(32) }), /^invalid secret key: '.*' is not valid hex/],
    ['63-char secret', relayConfig('v', { secret: '1'.repeat(63) }), /^invalid secret key: /],
    ['65-char secret', relayConfig('v', { secret: '1'.repeat(65) }), /^invalid secret key: secret key should be at most 64-char hex/],
    ['zero secret', relayConfig('v', { secret: '0'.repeat(64) }), 'invalid secret key: invalid secret key'],
    ['secret = curve order', relayConfig('v', { secret: CURVE_ORDER }), 'invalid secret key: invalid secret key'],
    ['secret above the curve order', relayConfig('v', { secret: 'f'.repeat(64) }), 'invalid secret key: invalid secret key'],
    ['pubkey not on the curve', relayConfig('v', { info: { pubkey: NOT_ON_CURVE } }), `invalid info.pubkey: '${NOT_ON_CURVE}' is not a valid pubkey`],
    ['uppercase pubkey', relayConfig('v', { info: { pubkey: tenantPk.toUpperCase() } }), /^invalid info\.pubkey: .* is not valid hex/],
    ['63-char pubkey', relayConfig('v', { info: { pubkey: tenantPk.slice(1) } }), /^invalid info\.pubkey: pubkey should be 64-char hex/],
    ['npub pubkey', relayConfig('v', { info: { pubkey: 'npub1' + 'q'.repeat(58) } }), /^invalid info\.pubkey: /],
    ['string for a bool', relayConfig('v', { inactive: 'false' }), 'invalid json config: json: cannot unmarshal string into Go struct field Config.inactive of type bool'],
    ['number for a string', relayConfig('v', { host: 5 }), /^invalid json config: json: cannot unmarshal number into Go struct field Config\.host/],
    ['string for roles pubkeys', relayConfig('v', { roles: { admin: { pubkeys: 'abc' } } }), /^invalid json config: json: cannot unmarshal string/],
    ['array body', '[]', /^invalid json config: json: cannot unmarshal array/],
    ['broken JSON', '{"host": ', /^invalid json config: /],
    ['empty body', '', 'invalid json config: unexpected end of JSON input'],
  ];
  for (const [name, body, message] of cases) {
    test(`POST: ${name}`, async () => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      expectError(await call(z, 'POST', '/relay/v', { body: text }), 400, message);
      assert.equal(z.configs.size, 0);
    });
  }

  test('the largest valid secret (n - 1) and an empty info.pubkey are accepted', async () => {
    const nMinus1 = CURVE_ORDER.slice(0, -1) + '0';
    expectMessage(await call(z, 'POST', '/relay/edge', { body: relayConfig('edge', { secret: nMinus1 }) }), 201);
    expectMessage(await call(z, 'DELETE', '/relay/edge'), 200);
  });

  test('a body of exactly 1 MiB is read; one byte more is 400', async () => {
    const cfg = relayConfig('big', { pad: '' });
    const room = 1024 * 1024 - JSON.stringify(cfg).length;
    const exact = JSON.stringify({ ...cfg, pad: 'x'.repeat(room) });
    assert.equal(Buffer.byteLength(exact), 1024 * 1024);
    const over = JSON.stringify({ ...cfg, pad: 'x'.repeat(room + 1) });
    expectError(await call(z, 'POST', '/relay/big', { body: over }), 400, 'failed to read body: http: request body too large');
    expectMessage(await call(z, 'POST', '/relay/big', { body: exact }), 201);
  });
});

describe('crash flags: what the API accepts but zooid panics on', () => {
  test('an empty or missing info.pubkey is stored (201) and flagged', async () => {
    const z = await startZooid({ whitelist: [platformPk] });
    try {
      expectMessage(await call(z, 'POST', '/relay/ok', { body: relayConfig('ok') }), 201);
      assert.deepEqual(z.crashFlags, []);
      expectMessage(await call(z, 'POST', '/relay/empty', { body: relayConfig('empty', { info: { name: 'e', pubkey: '' } }) }), 201);
      expectMessage(await call(z, 'POST', '/relay/missing', { body: relayConfig('missing', { info: undefined }) }), 201);
      assert.deepEqual(z.crashFlags, ['empty', 'missing']);
      // Removing the pubkey with a PATCH is the same danger.
      expectMessage(await call(z, 'PATCH', '/relay/ok', { body: { info: { pubkey: null } } }), 200);
      assert.deepEqual(z.crashFlags, ['empty', 'missing', 'ok']);
      // The flag records that zooid would already have crashed: fixing the config later does not clear it.
      expectMessage(await call(z, 'PATCH', '/relay/ok', { body: { info: { pubkey: tenantPk } } }), 200);
      assert.ok(z.crashFlags.includes('ok'));
    } finally {
      await z.stop();
    }
  });
});

describe('outages: stop, restart, setFailure', () => {
  let z;
  before(async () => { z = await startZooid({ whitelist: [platformPk] }); });
  after(() => z.stop());

  test('stop() refuses connections; restart() listens on the same port and keeps the configs', async () => {
    expectMessage(await call(z, 'POST', '/relay/keep', { body: relayConfig('keep') }), 201);
    const port = z.port;
    await z.stop();
    await assert.rejects(call(z, 'DELETE', '/relay/keep'), { code: 'ECONNREFUSED' });
    await z.restart();
    assert.equal(z.port, port);
    assert.ok(z.configs.has('keep'));
    expectError(await call(z, 'POST', '/relay/keep', { body: relayConfig('keep') }), 409, 'relay with this id already exists');
  });

  test('{status: 503, count: 2}: two JSON 503s, then normal service; nothing applied meanwhile', async () => {
    z.setFailure({ status: 503, count: 2 });
    const body = relayConfig('flaky');
    for (let i = 0; i < 2; i++) {
      const res = await call(z, 'POST', '/relay/flaky', { body });
      expectError(res, 503);
      assert.equal(z.configs.has('flaky'), false);
    }
    expectMessage(await call(z, 'POST', '/relay/flaky', { body }), 201);
    assert.deepEqual(z.calls.slice(-3).map((c) => [c.status, c.injected]), [[503, '503'], [503, '503'], [201, null]]);
  });

  test('{status: 500, afterApply}: the change is stored although the answer is an error', async () => {
    z.setFailure({ status: 500, count: 1, afterApply: true });
    expectError(await call(z, 'POST', '/relay/lost', { body: relayConfig('lost') }), 500);
    assert.ok(z.configs.has('lost'));
    expectError(await call(z, 'POST', '/relay/lost', { body: relayConfig('lost') }), 409, 'relay with this id already exists');
  });

  test('{hang: true}: the call is accepted and never answered; the next one is served', async () => {
    z.setFailure({ hang: true, count: 1 });
    const t0 = Date.now();
    await assert.rejects(call(z, 'DELETE', '/relay/none', { timeoutMs: 300 }), { code: 'CLIENT_TIMEOUT' });
    assert.ok(Date.now() - t0 >= 290);
    assert.equal(z.calls.at(-1).status, null);
    assert.equal(z.calls.at(-1).injected, 'hang');
    expectAuthPassed(await call(z, 'DELETE', '/relay/none'));
  });

  test('stop() also ends hanging calls', async () => {
    z.setFailure({ hang: true });
    const pending = call(z, 'DELETE', '/relay/none', { timeoutMs: 10000 });
    while (z.calls.at(-1)?.injected !== 'hang') await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await z.stop();
    // Ended by stop(), not by the client's own 10 s timeout (which the error code and this
    // bound, far from a socket close and well under those 10 s, both tell apart).
    await assert.rejects(pending, (e) => e.code !== 'CLIENT_TIMEOUT');
    assert.ok(Date.now() - t0 < 5000, `pending call ended ${Date.now() - t0} ms after stop()`);
    z.setFailure(null);
    await z.restart();
  });

  test('{delayMs}: every call answers late until cleared', async () => {
    z.setFailure({ delayMs: 600 });
    for (let i = 0; i < 2; i++) {
      const t0 = Date.now();
      expectAuthPassed(await call(z, 'DELETE', '/relay/none'));
      assert.ok(Date.now() - t0 >= 590);
      assert.equal(z.calls.at(-1).injected, 'delay 600ms');
    }
    z.setFailure(null);
    // Not "answered within N ms" (a loaded machine may take that long anyway): the
    // stand-in records each delay it injects, and it injected none into this call.
    const before = z.calls.length;
    expectAuthPassed(await call(z, 'DELETE', '/relay/none'));
    assert.equal(z.calls.length, before + 1);
    assert.equal(z.calls.at(-1).injected, null, 'no delay once cleared');
  });

  test('keep-alive: a second call reuses the connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await call(z, 'DELETE', '/relay/none', { agent });
      const b = await call(z, 'DELETE', '/relay/none', { agent });
      expectAuthPassed(a);
      expectAuthPassed(b);
      assert.equal(b.reused, true);
    } finally {
      agent.destroy();
    }
  });
});

describe('TLS', () => {
  const openssl = spawnSync('openssl', ['version']).status === 0;
  test('over TLS the u tag must say https', { skip: !openssl && 'openssl not available' }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'zooid-standin-'));
    try {
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
      assert.equal(r.status, 0, r.stderr?.toString());
      const z = await startZooid({ whitelist: [platformPk], tls: { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) } });
      try {
        assert.ok(z.url.startsWith('https://'));
        expectAuthPassed(await call(z, 'DELETE', '/relay/none', { proto: 'https' }));
        expectError(await call(z, 'DELETE', '/relay/none', { proto: 'http' }), 401, 'event missing or invalid u tag');
      } finally {
        await z.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/// Runs the CLI on a free port; resolves once it says it is listening: {child, port, output}
/// (output.stdout and output.stderr grow as it writes). The port is probed free first, so
/// another process (ctest -j) may take it before the CLI listens: then it exits with
/// EADDRINUSE and is started again on another port, a few times.
async function startCli() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(HERE, 'zooid_standin_main.mjs'), '--port', String(port), '--whitelist', platformPk],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (output.stdout += d));
    child.stderr.on('data', (d) => (output.stderr += d));
    const closed = new Promise((r) => child.once('close', r));
    const deadline = Date.now() + 10000;
    while (!output.stderr.includes('listening')) {
      if (child.exitCode !== null) {
        await closed;  // all of its stderr
        if (/EADDRINUSE/.test(output.stderr) && attempt < 5) break;
        throw new Error(`no start: ${output.stderr}`);
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`no start: ${output.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (child.exitCode === null) return { child, port, output };
  }
}

test('CLI: serves on --port, prints one JSON line per call with secrets redacted, exits 0 on SIGTERM', async () => {
  const { child, port, output } = await startCli();
  try {
    const deadline = Date.now() + 10000;
    const z = { url: `http://127.0.0.1:${port}`, apiHost: `127.0.0.1:${port}` };
    const cfg = relayConfig('cli');
    expectMessage(await call(z, 'POST', '/relay/cli', { body: cfg }), 201);
    expectError(await call(z, 'POST', '/relay/cli2', { body: relayConfig('cli2', { secret: 'zz'.repeat(32) }) }), 400);
    while (output.stdout.split('\n').filter(Boolean).length < 2) {
      if (Date.now() > deadline) throw new Error(`no output: ${output.stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const { stdout } = output;
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].status, 201);
    assert.equal(lines[0].relayId, 'cli');
    assert.equal(lines[0].pubkey, platformPk);
    assert.equal(lines[0].body.secret, '<redacted>');
    assert.ok(!stdout.includes(cfg.secret));
    assert.ok(!stdout.includes('zz'.repeat(32)), 'the 400 quoting a bad secret is redacted too');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

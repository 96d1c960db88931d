// A stand-in for zooid's management API (coracle-social/zooid), as strict as the real one:
// the contract is the shared spec's zooid.md, cross-checked against zooid's api.go/util.go and
// fiatjaf.com/nostr. Integration tests point relayhost at it and then inspect what arrived
// (`configs`, `calls`, `crashFlags`) and inject outages (`stop`, `restart`, `setFailure`).
//
// Where the stand-in knowingly differs from zooid it is STRICTER, and the difference is named in
// a comment marked "stricter than zooid". Known gaps: it serves no hosted relays (every non-API
// Host is a 404), and a float-formatted integer in the auth event (`"kind": 27235.0`) passes
// here although Go's decoder would refuse it (JSON.parse loses the spelling).
import http from 'node:http';
import https from 'node:https';
import { createHash } from 'node:crypto';
import { verifyEvent } from 'nostr-tools/pure';

/// zooid wraps request bodies in http.MaxBytesReader(…, 1024*1024).
import { registerSecret } from './secrets.mjs';
import { listenOn } from './listen.mjs';

export const API_BODY_LIMIT_BYTES = 1024 * 1024;
export const HTTP_AUTH_KIND = 27235;

const SECP256K1_P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported so tests and other tools can reuse them).

function modPow(base, exp, mod) {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

/// True when `hex` is 64 lowercase hex digits naming an x coordinate that lifts to a point of
/// secp256k1 (BIP-340 lift_x: x < p and x³+7 a square mod p), what schnorr.ParsePubKey accepts.
/// Stricter than zooid: uppercase hex is refused (nostr hex is lowercase; zooid decodes either).
export function isValidXOnlyPubkey(hex) {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return false;
  const x = BigInt('0x' + hex);
  if (x >= SECP256K1_P) return false;
  const c = (modPow(x, 3n, SECP256K1_P) + 7n) % SECP256K1_P;
  return c === 0n || modPow(c, (SECP256K1_P - 1n) / 2n, SECP256K1_P) === 1n;
}

/// True when `hex` is 64 hex digits (either case, like Go's hex.Decode) of a scalar in [1, n).
/// Stricter than zooid: fiatjaf.com/nostr left-pads shorter hex and reduces values ≥ n mod n.
export function isValidSecretKey(hex) {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const k = BigInt('0x' + hex);
  return k > 0n && k < SECP256K1_N;
}

/// zooid's deepMerge (api.go): objects merge key by key, a null deletes the key, anything else
/// (arrays, scalars) replaces. Returns a new object; neither input is modified.
export function deepMerge(base, patch) {
  const result = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete result[k];
    } else if (isPlainObject(v)) {
      // zooid merges into the zero-valued struct here, which also drops nested nulls.
      result[k] = deepMerge(isPlainObject(base[k]) ? base[k] : {}, v);
    } else {
      result[k] = structuredClone(v);
    }
  }
  return result;
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// Go's encoding/json escapes <, >, & and U+2028/U+2029, and Encoder.Encode ends with "\n".
function goJson(value) {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029') + '\n';
}

function jsonKind(v) {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

// Go's "%#U" for the first character `digit` refuses (hex.Decode's InvalidByteError).
function invalidHexByte(s, digit = /[0-9a-fA-F]/) {
  for (const ch of s) {
    if (!digit.test(ch)) {
      const cp = ch.codePointAt(0);
      return `encoding/hex: invalid byte: U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${ch}'`;
    }
  }
  return 'encoding/hex: odd length hex string';
}

/// The field types of zooid's Config (config.go + zooid.md). Go's json.Unmarshal refuses a value
/// of the wrong JSON type (400), takes null as "leave the zero value", and ignores unknown keys.
const ROLE_TYPE = { pubkeys: ['string'], can_invite: 'bool', can_manage: 'bool' };
export const CONFIG_TYPE = {
  host: 'string',
  schema: 'string',
  secret: 'string',
  inactive: 'bool',
  info: { name: 'string', icon: 'string', pubkey: 'string', description: 'string' },
  policy: { public_join: 'bool', strip_signatures: 'bool' },
  groups: { enabled: 'bool' },
  push: { enabled: 'bool' },
  management: { enabled: 'bool' },
  blossom: { enabled: 'bool' },
  livekit: { server_url: 'string', api_key: 'string', api_secret: 'string' },
  roles: { $mapOf: ROLE_TYPE },
};

function goTypeName(type) {
  if (type === 'string' || type === 'bool') return type;
  if (Array.isArray(type)) return `[]${goTypeName(type[0])}`;
  if (type.$mapOf) return 'map[string]zooid.Role';
  if (type === ROLE_TYPE) return 'zooid.Role';
  return 'struct';
}

/// Walks `value` against `type` like Go's decoder: fills out.error / out.warnings. Stricter than
/// zooid: keys must match exactly (Go also matches "Host" to `host`, case-insensitively). `error` is the
/// first type mismatch in Go's wording ("json: cannot unmarshal …"); warnings name fields that
/// zooid silently drops or values zooid would silently never match.
function checkTypes(value, type, path, out) {
  if (value === null || value === undefined) return;
  if (typeof type === 'string') {
    if (jsonKind(value) !== type && !out.error) {
      out.error = `json: cannot unmarshal ${jsonKind(value)} into Go struct field Config.${path} of type ${type}`;
    }
    return;
  }
  if (Array.isArray(type)) {
    if (!Array.isArray(value)) {
      if (!out.error) out.error = `json: cannot unmarshal ${jsonKind(value)} into Go struct field Config.${path} of type ${goTypeName(type)}`;
      return;
    }
    for (const item of value) checkTypes(item, type[0], path, out);
    return;
  }
  if (!isPlainObject(value)) {
    if (!out.error) {
      out.error = path
        ? `json: cannot unmarshal ${jsonKind(value)} into Go struct field Config.${path} of type ${goTypeName(type)}`
        : `json: cannot unmarshal ${jsonKind(value)} into Go value of type zooid.Config`;
    }
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const sub = path ? `${path}.${k}` : k;
    if (type.$mapOf) {
      checkTypes(v, type.$mapOf, sub, out);
    } else if (Object.hasOwn(type, k)) {
      checkTypes(v, type[k], sub, out);
    } else {
      out.warnings.push(`unknown field "${sub}" (zooid ignores it)`);
    }
  }
}

function roleWarnings(config, warnings) {
  if (!isPlainObject(config.roles)) return;
  for (const [name, role] of Object.entries(config.roles)) {
    if (!isPlainObject(role) || !Array.isArray(role.pubkeys)) continue;
    role.pubkeys.forEach((pk, i) => {
      // zooid compares role pubkeys with PubKey.Hex() (lowercase) as strings: anything else
      // is stored fine and then never matches anyone.
      if (typeof pk === 'string' && !isValidXOnlyPubkey(pk)) {
        warnings.push(`roles.${name}.pubkeys[${i}] is not a valid lowercase hex pubkey: zooid would never match it`);
      }
    });
  }
}

function str(obj, ...path) {
  let v = obj;
  for (const k of path) v = isPlainObject(v) ? v[k] : undefined;
  return typeof v === 'string' ? v : '';
}

/// zooid's validatePatchedConfig, on a config that already passed checkTypes. Returns the 400
/// message or null.
export function validateConfig(config) {
  const host = str(config, 'host');
  const schema = str(config, 'schema');
  const secret = str(config, 'secret');
  const pubkey = str(config, 'info', 'pubkey');
  if (host === '') return 'host is required';
  if (schema === '') return 'schema is required';
  // In zooid's source next to validatePatchedConfig (zooid.md does not list it; api.md relies
  // on it: "zooid rejects schemas that start with a digit").
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(schema)) return 'schema must contain only letters, numbers, and underscores';
  if (secret === '') return 'secret is required';
  const secretBytes = Buffer.byteLength(secret);
  if (secretBytes > 64) return `invalid secret key: secret key should be at most 64-char hex, got '${secret}'`;
  // Stricter than zooid: zooid left-pads a shorter secret with zeros and takes it.
  if (secretBytes < 64) return `invalid secret key: secret key should be 64-char hex, got '${secret}'`;
  if (!/^[0-9a-fA-F]{64}$/.test(secret)) return `invalid secret key: '${secret}' is not valid hex: ${invalidHexByte(secret)}`;
  if (!isValidSecretKey(secret)) return 'invalid secret key: invalid secret key';
  if (pubkey !== '') {
    if (Buffer.byteLength(pubkey) !== 64) return `invalid info.pubkey: pubkey should be 64-char hex, got '${pubkey}'`;
    // Stricter than zooid: uppercase hex digits are refused here.
    if (!/^[0-9a-f]{64}$/.test(pubkey)) return `invalid info.pubkey: '${pubkey}' is not valid hex: ${invalidHexByte(pubkey, /[0-9a-f]/)}`;
    if (!isValidXOnlyPubkey(pubkey)) return `invalid info.pubkey: '${pubkey}' is not a valid pubkey`;
  }
  return null;
}

/// zooid panics (in a goroutine) loading a config whose info.pubkey is empty or invalid.
export function wouldCrashZooid(config) {
  return !isValidXOnlyPubkey(str(config, 'info', 'pubkey'));
}

// Go's base64.StdEncoding.DecodeString: padding required, '\r' and '\n' skipped, any other
// character outside the alphabet refused. Returns {bytes} or {error}.
function decodeStdBase64(s) {
  const clean = s.replace(/[\r\n]/g, '');
  const bad = clean.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return { error: `illegal base64 data at input byte ${bad}` };
  const firstPad = clean.indexOf('=');
  if (firstPad >= 0) {
    const tail = clean.slice(firstPad);
    const quantumPos = firstPad % 4;
    const validTail = (quantumPos === 2 && tail === '==') || (quantumPos === 3 && tail === '=');
    if (!validTail || clean.length % 4 !== 0) return { error: `illegal base64 data at input byte ${firstPad}` };
  } else if (clean.length % 4 !== 0) {
    // Unpadded: Go reports the start of the incomplete quantum.
    return { error: `illegal base64 data at input byte ${clean.length - (clean.length % 4)}` };
  }
  return { bytes: Buffer.from(clean, 'base64') };
}

// What fiatjaf.com/nostr's Event decoder refuses, worded loosely (any failure is a 401 with
// the "invalid event json: " prefix; the detail after it is not zooid's exact text).
// Stricter than zooid: id, pubkey and sig must be lowercase hex (Go's hex decoder takes either).
function decodeAuthEvent(bytes) {
  let ev;
  try {
    if (bytes.length === 0) return { error: 'unexpected end of JSON input' };
    ev = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return { error: e.message };
  }
  if (ev === null) ev = {};
  if (!isPlainObject(ev)) return { error: `json: cannot unmarshal ${jsonKind(ev)} into Go value of type nostr.Event` };
  const hexField = (name, len) => {
    const v = ev[name];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${len}}$`).test(v)) return `${name} must be a hex string of ${len} characters`;
    return null;
  };
  const err = hexField('id', 64) ?? hexField('pubkey', 64) ?? hexField('sig', 128);
  if (err) return { error: err };
  if (ev.pubkey != null && !isValidXOnlyPubkey(ev.pubkey)) return { error: 'pubkey is not valid' };
  if (ev.kind != null && !(Number.isInteger(ev.kind) && ev.kind >= 0 && ev.kind <= 0xffff)) {
    return { error: `json: cannot unmarshal ${jsonKind(ev.kind)} into Go struct field Event.kind of type nostr.Kind` };
  }
  if (ev.created_at != null && !Number.isInteger(ev.created_at)) {
    return { error: `json: cannot unmarshal ${jsonKind(ev.created_at)} into Go struct field Event.created_at of type nostr.Timestamp` };
  }
  if (ev.content != null && typeof ev.content !== 'string') {
    return { error: `json: cannot unmarshal ${jsonKind(ev.content)} into Go struct field Event.content of type string` };
  }
  if (ev.tags != null && !(Array.isArray(ev.tags) && ev.tags.every((t) => t === null || (Array.isArray(t) && t.every((x) => typeof x === 'string'))))) {
    return { error: 'json: cannot unmarshal tags into Go struct field Event.tags of type nostr.Tags' };
  }
  return { event: ev };
}

/// zooid's validateNIP98Auth, in its order. `ctx` = {authorization, host, path, method, https}.
/// Returns {pubkey, event} or {error, event?}; the error text is zooid's (401 body).
/// Stricter than zooid: the event's `id` must be its hash (zooid.md: "id and signature valid";
/// fiatjaf.com/nostr's VerifySignature itself recomputes the hash and ignores the id field).
export function checkNip98(ctx) {
  const header = ctx.authorization ?? '';
  if (header === '') return { error: 'missing authorization header' };
  const sp = header.indexOf(' ');
  // strings.SplitN(h, " ", 2) and strings.ToLower(parts[0]) == "nostr": the scheme's case is free.
  if (sp < 0 || header.slice(0, sp).toLowerCase() !== 'nostr') return { error: 'invalid authorization header format' };
  const decoded = decodeStdBase64(header.slice(sp + 1));
  if (decoded.error) return { error: `invalid base64 encoding: ${decoded.error}` };
  const parsed = decodeAuthEvent(decoded.bytes);
  if (parsed.error) return { error: `invalid event json: ${parsed.error}` };
  const ev = parsed.event;
  const kind = ev.kind ?? 0;
  if (kind !== HTTP_AUTH_KIND) return { error: `invalid event kind: expected ${HTTP_AUTH_KIND}, got ${kind}`, event: ev };
  const full = { id: '', pubkey: '', sig: '', created_at: 0, content: '', ...ev, tags: (ev.tags ?? []).map((t) => t ?? []) };
  if (!verifyEvent(full)) return { error: 'invalid event signature', event: ev };
  // r.URL.Path: the query string never takes part.
  const expectedUrl = `${ctx.https ? 'https' : 'http'}://${ctx.host}${ctx.path}`;
  let hasUrl = false;
  let hasMethod = false;
  for (const tag of full.tags) {
    if (tag.length < 2) continue;
    if (tag[0] === 'u' && tag[1] === expectedUrl) hasUrl = true;
    if (tag[0] === 'method' && tag[1].toUpperCase() === ctx.method) hasMethod = true;
  }
  if (!hasUrl) return { error: 'event missing or invalid u tag', event: ev };
  if (!hasMethod) return { error: 'event missing or invalid method tag', event: ev };
  return { pubkey: ev.pubkey, event: ev };
}

// Go's url.ParseRequestURI + unescape(PathSegment mode) for r.URL.Path: "%zz" is a bad request.
function requestPath(target) {
  let path = target;
  let host = null;
  const abs = /^https?:\/\/([^/?]*)(.*)$/i.exec(target);
  if (abs) {
    host = abs[1];
    path = abs[2] || '/';
  }
  const q = path.indexOf('?');
  if (q >= 0) path = path.slice(0, q);
  const bytes = [];
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '%') {
      const h = path.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return { error: true };
      bytes.push(parseInt(h, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(path[i], 'utf8')) bytes.push(b);
    }
  }
  return { path: Buffer.from(bytes).toString('utf8'), host };
}

// ---------------------------------------------------------------------------------------------
// The server.

/**
 * Starts a zooid stand-in on 127.0.0.1.
 * @param {object} o
 * @param {string|string[]} o.whitelist  hex pubkeys allowed to use the API (zooid's API_WHITELIST,
 *   comma-separated or an array). Empty: the API is off, like zooid without API_WHITELIST.
 * @param {number} [o.port]      0 or absent: a free port.
 * @param {string} [o.apiHost]   the Host the API answers to (API_HOST); default 127.0.0.1:<port>.
 * @param {{key, cert}} [o.tls]  serve HTTPS (the `u` tag must then say https).
 * @param {(call) => void} [o.onCall]  called with each call record when it is answered (or starts hanging).
 * @param {number} [o.keepAliveTimeoutMs]  idle keep-alive limit; default 0 = none, like zooid
 *   (Go's http.Server without IdleTimeout/ReadTimeout never closes an idle connection).
 */
export async function startZooid({ apiHost, whitelist = [], port = 0, tls, onCall, keepAliveTimeoutMs = 0 } = {}) {
  const allowed = new Set(
    (Array.isArray(whitelist) ? whitelist : String(whitelist).split(','))
      .map((s) => String(s).trim()).filter((s) => s !== ''),
  );
  const store = new Map(); // id → config as received / merged (unknown fields kept)
  const calls = [];
  const probes = [];
  const crashFlags = [];
  const sockets = new Set();
  let failure = null; // {status|hang|delayMs, remaining, afterApply}

  const requestListener = (req, res) => {
    handle(req, res).catch((err) => {
      // A bug in the stand-in: make it loud in the test, not a silent hang.
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(goJson({ error: `stand-in bug: ${err.message}` }));
      }
      console.error('zooid stand-in:', err);
    });
  };
  const server = tls ? https.createServer({ ...tls }, requestListener) : http.createServer(requestListener);
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function listen() {
    port = await listenOn(server, port);
  }
  await listen();
  const effectiveApiHost = apiHost ?? `127.0.0.1:${port}`;

  function readBody(req) {
    return new Promise((resolve, reject) => {
      const hash = createHash('sha256');
      const chunks = [];
      let size = 0;
      req.on('data', (c) => {
        hash.update(c);
        if (size <= API_BODY_LIMIT_BYTES) chunks.push(c.subarray(0, API_BODY_LIMIT_BYTES + 1 - size));
        size += c.length;
      });
      req.on('end', () => resolve({ bytes: Buffer.concat(chunks), size, sha256: hash.digest('hex'), tooLarge: size > API_BODY_LIMIT_BYTES }));
      req.on('error', reject);
    });
  }

  function takeFailure() {
    if (!failure) return null;
    const f = failure;
    if (f.remaining !== Infinity && --f.remaining <= 0) failure = null;
    return f;
  }

  function markCrash(id, config) {
    if (wouldCrashZooid(config) && !crashFlags.includes(id)) crashFlags.push(id);
  }

  // Sorted like os.ReadDir of "<id>.toml" files: the first clash in that order is reported.
  function duplicateError(config, excludeId) {
    const host = str(config, 'host');
    const schema = str(config, 'schema');
    const ids = [...store.keys()].filter((id) => id !== excludeId)
      .sort((a, b) => Buffer.compare(Buffer.from(a + '.toml'), Buffer.from(b + '.toml')));
    for (const id of ids) {
      const other = store.get(id);
      if (str(other, 'schema') === schema) return `schema ${JSON.stringify(schema)} is already in use`;
      if (str(other, 'host') === host) return `host ${JSON.stringify(host)} is already in use`;
    }
    return null;
  }

  // Parses a request body the way zooid does; `prefix` is "invalid json config" (POST/PUT)
  // or "invalid json" (PATCH). Returns {value} or {error}.
  function parseBody(body, prefix) {
    if (body.tooLarge) return { error: 'failed to read body: http: request body too large' };
    const text = body.bytes.toString('utf8');
    if (text.trim() === '') return { error: `${prefix}: unexpected end of JSON input` };
    try {
      return { value: JSON.parse(text) };
    } catch (e) {
      return { error: `${prefix}: ${e.message}` };
    }
  }

  // The API proper (zooid's APIHandler.ServeHTTP), after NIP-98 and the whitelist.
  function route(method, path, body, call) {
    const parts = path.replace(/^\//, '').split('/');
    if (parts.length < 2 || parts[0] !== 'relay') return [404, { error: 'not found' }];
    const id = parts[1];
    if (id === '') return [400, { error: 'relay id is required' }];
    call.relayId = id;
    switch (method) {
      case 'POST': {
        if (store.has(id)) return [409, { error: 'relay with this id already exists' }];
        const parsed = parseBody(body, 'invalid json config');
        if (parsed.error) return [400, { error: parsed.error }];
        const config = parsed.value ?? {};
        const types = { error: null, warnings: call.warnings };
        checkTypes(config, CONFIG_TYPE, '', types);
        if (types.error) return [400, { error: `invalid json config: ${types.error}` }];
        registerSecret(config?.secret, 'a relay secret key (sent to zooid)');
        const invalid = validateConfig(config);
        if (invalid) return [400, { error: invalid }];
        const dup = duplicateError(config, null);
        if (dup) return [409, { error: dup }];
        roleWarnings(config, call.warnings);
        store.set(id, structuredClone(config));
        markCrash(id, config);
        return [201, { message: 'relay created successfully' }];
      }
      case 'PUT': {
        if (!store.has(id)) return [404, { error: 'relay not found' }];
        const parsed = parseBody(body, 'invalid json config');
        if (parsed.error) return [400, { error: parsed.error }];
        const config = parsed.value ?? {};
        const types = { error: null, warnings: call.warnings };
        checkTypes(config, CONFIG_TYPE, '', types);
        if (types.error) return [400, { error: `invalid json config: ${types.error}` }];
        const invalid = validateConfig(config);
        if (invalid) return [400, { error: invalid }];
        const dup = duplicateError(config, id);
        if (dup) return [409, { error: dup }];
        roleWarnings(config, call.warnings);
        store.set(id, structuredClone(config));
        markCrash(id, config);
        return [200, { message: 'relay updated successfully' }];
      }
      case 'PATCH': {
        if (!store.has(id)) return [404, { error: 'relay not found' }];
        const parsed = parseBody(body, 'invalid json');
        if (parsed.error) return [400, { error: parsed.error }];
        const patch = parsed.value ?? {};
        if (!isPlainObject(patch)) {
          return [400, { error: `invalid json: json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}` }];
        }
        const merged = deepMerge(store.get(id), patch);
        const types = { error: null, warnings: call.warnings };
        checkTypes(merged, CONFIG_TYPE, '', types);
        if (types.error) return [400, { error: types.error }];
        const invalid = validateConfig(merged);
        if (invalid) return [400, { error: invalid }];
        const dup = duplicateError(merged, id);
        if (dup) return [409, { error: dup }];
        roleWarnings(merged, call.warnings);
        store.set(id, merged);
        markCrash(id, merged);
        return [200, { message: 'relay patched successfully' }];
      }
      case 'DELETE':
        if (!store.has(id)) return [404, { error: 'relay not found' }];
        store.delete(id);
        return [200, { message: 'relay deleted successfully' }];
      default:
        return [405, { error: 'method not allowed' }];
    }
  }

  async function handle(req, res) {
    const call = {
      time: Date.now(),
      method: req.method,
      url: req.url, // the request target as received, query included
      path: null, // r.URL.Path: decoded, no query
      host: req.headers.host ?? null,
      api: false,
      relayId: null,
      status: null,
      response: null,
      body: null,
      bodyBytes: 0,
      pubkey: null,
      authError: null,
      authEvent: null,
      hasPayloadTag: null,
      payloadMatches: null,
      injected: null,
      warnings: [],
      answeredAt: null,
    };
    // relayhost's reachability probe (an unauthenticated GET, for /healthz) is kept
    // apart from the calls, and never uses up a counted failure: tests count calls
    // and failures as relayhost's relay work. An uncounted failure (zooid down for
    // good) applies to it like to anything else.
    const probe = req.headers.authorization === undefined;
    (probe ? probes : calls).push(call);
    const body = await readBody(req);
    call.bodyBytes = body.size;
    if (body.size > 0 && !body.tooLarge) {
      const text = body.bytes.toString('utf8');
      try { call.body = JSON.parse(text); } catch { call.body = text; }
    }

    const send = (status, payload, { text = false } = {}) => {
      call.status = status;
      call.response = payload;
      call.answeredAt = Date.now();
      if (text) {
        // net/http's http.Error, what zooid answers for a host it does not serve.
        const b = `${payload}\n`;
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(b) });
        res.end(b);
      } else {
        const b = goJson(payload);
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
        res.end(b);
      }
      if (!probe) onCall?.(call);
    };

    const f = probe ? (failure?.remaining === Infinity ? failure : null) : takeFailure();
    if (f?.delayMs) {
      call.injected = `delay ${f.delayMs}ms`;
      await new Promise((r) => setTimeout(r, f.delayMs));
    }
    const hang = () => {
      call.injected = f.afterApply ? 'hang after apply' : 'hang';
      if (!probe) onCall?.(call);
      // Never answer; stop() destroys the socket.
    };
    const fail = () => {
      call.injected = `${f.status}${f.afterApply ? ' after apply' : ''}`;
      send(f.status, { error: `${http.STATUS_CODES[f.status] ?? 'error'} (injected by the zooid stand-in)` });
    };
    if (f?.hang && !f.afterApply) return hang();
    if (f?.status && !f.afterApply) return fail();

    const target = requestPath(req.url);
    if (target.error) return send(400, '400 Bad Request', { text: true }); // Go's server, before any handler
    call.path = target.path;
    // For an absolute-form target Go takes the host from the URL, not the Host header.
    const host = target.host ?? req.headers.host ?? '';
    call.host = host;

    let status;
    let payload;
    let plain = false;
    if (allowed.size === 0 || host !== effectiveApiHost) {
      // Not the API: zooid would look for a hosted relay with that host; the stand-in serves none.
      [status, payload, plain] = [404, 'Not Found', true];
    } else {
      call.api = true;
      const xfp = req.headersDistinct?.['x-forwarded-proto']?.[0] ?? req.headers['x-forwarded-proto'];
      const auth = checkNip98({
        authorization: req.headers.authorization,
        host,
        path: target.path,
        method: req.method,
        https: Boolean(tls) || xfp === 'https',
      });
      call.authEvent = auth.event ?? null;
      const payloadTag = auth.event && Array.isArray(auth.event.tags)
        ? auth.event.tags.find((t) => Array.isArray(t) && t[0] === 'payload' && t.length >= 2) : undefined;
      if (auth.event) {
        call.hasPayloadTag = Boolean(payloadTag);
        call.payloadMatches = payloadTag ? payloadTag[1] === body.sha256 : null;
      }
      if (auth.error) {
        call.authError = auth.error;
        [status, payload] = [401, { error: auth.error }];
      } else if (!allowed.has(auth.pubkey)) {
        call.pubkey = auth.pubkey;
        [status, payload] = [403, { error: 'pubkey not in whitelist' }];
      } else {
        call.pubkey = auth.pubkey;
        [status, payload] = route(req.method, target.path, body, call);
      }
    }
    if (f?.hang) return hang();
    if (f?.status) return fail();
    return send(status, payload, { text: plain });
  }

  let running = true;
  async function stop() {
    if (!running) return;
    running = false;
    const closed = new Promise((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
    for (const s of sockets) s.destroy();
    await closed;
  }
  return {
    get url() { return `${tls ? 'https' : 'http'}://127.0.0.1:${port}`; },
    apiHost: effectiveApiHost,
    get port() { return port; },
    /// id → a deep copy of the stored config (as received / merged; unknown fields kept).
    get configs() { return new Map([...store].map(([id, c]) => [id, structuredClone(c)])); },
    /// Every request, oldest first (live array; entries are filled in when answered).
    calls,
    /// Unauthenticated requests (relayhost's reachability probes), oldest first.
    probes,
    /// Ids that were ever stored with an empty or invalid info.pubkey: real zooid would have
    /// panicked loading them. Tests assert it stays empty.
    crashFlags,
    get running() { return running; },
    /// Puts a config in place without the API (like a TOML file dropped into zooid's config dir).
    seedConfig(id, config) {
      store.set(id, structuredClone(config));
      markCrash(id, config);
    },
    clearCalls() { calls.length = 0; },
    /**
     * null: behave. {status: 500|502|503, count?}: the next `count` calls (default: all) answer
     * that status with a JSON error. {hang: true, count?}: accept, read, never answer.
     * {delayMs, count?}: answer after a delay. Add `afterApply: true` to status/hang to process
     * the call first (the change is stored) and then fail: "zooid did it but the answer was lost".
     */
    setFailure(mode) {
      if (mode === null || mode === undefined) { failure = null; return; }
      const remaining = mode.count ?? Infinity;
      if (!(remaining > 0)) throw new Error('setFailure: count must be positive');
      if (mode.status !== undefined && !(Number.isInteger(mode.status) && mode.status >= 400 && mode.status <= 599)) {
        throw new Error('setFailure: status must be an HTTP error status');
      }
      if (mode.status === undefined && !mode.hang && mode.delayMs === undefined) throw new Error('setFailure: unknown mode');
      failure = { ...mode, remaining };
    },
    /// Closes the port and every connection (hanging ones included): connection refused after.
    stop,
    /// Listens again on the same port; stored configs survive, like zooid's config directory.
    async restart() {
      await stop();
      await listen();
      running = true;
    },
  };
}

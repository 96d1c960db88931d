// The operators' view of a running relayhost: GET /metrics on METRICS_ADDR (and not
// on the public port) parses line by line as Prometheus text 0.0.4, its counters
// move by exactly the requests made, every actor type reports its live count,
// messages handled, handling time and mailbox depth, and 10,000 different unknown
// paths add no more than a bounded number of series; with LOG_FORMAT=json every
// output line is a JSON object with time, level and msg (scrapes only at debug), and
// neither an NWC URI, its secret nor an Authorization header ever reaches it;
// /openapi.json is public OpenAPI 3.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { Relayhost } from './lib/relayhost.mjs';
import { Client } from './lib/client.mjs';
import { waitFor } from './lib/nostr_peer.mjs';

// -- a strict parser of the Prometheus text format 0.0.4 ---------------------------

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseFloatStrict(text, where) {
  if (!FLOAT.test(text)) throw new Error(`${where}: bad value "${text}"`);
  if (text === 'NaN') return NaN;
  if (/^[+]?Inf$/.test(text)) return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function unescapeHelp(doc, where) {
  return doc.replace(/\\(.?)/g, (_, c) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${where}: bad escape "\\${c}" in HELP`);
  });
}

// Reads `{name="value",…}` from `line` at `i` (just after '{'); returns [labels, index after '}'].
function parseLabels(line, i, where) {
  const labels = {};
  for (;;) {
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: label "${name}" twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let value = '';
    let j = eq + 2;
    for (;; j++) {
      if (j >= line.length) throw new Error(`${where}: unterminated label value`);
      const c = line[j];
      if (c === '"') break;
      if (c === '\\') {
        const e = line[++j];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape "\\${e ?? ''}" in label value`);
      } else {
        value += c;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected ',' or '}' after a label`);
  }
}

function seriesKey(name, labels) {
  return name + JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/// Parses an exposition; throws naming the line of the first violation. Returns
/// { families: Map(name → {type, help, samples}), samples: [{name, labels, value, family}] }.
export function parseExposition(text) {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text.split('\n');
  lines.pop();
  const families = new Map();
  const samples = [];
  const seen = new Set();
  const closed = new Set(); // families whose group of lines has ended
  let current = null;
  const family = (name) => {
    if (!families.has(name)) families.set(name, { name, type: undefined, help: undefined, samples: [] });
    return families.get(name);
  };
  const enter = (name, where) => {
    if (current !== name) {
      if (closed.has(name)) throw new Error(`${where}: lines of ${name} are not one group`);
      if (current !== null) closed.add(current);
      current = name;
    }
  };
  // The family a sample name belongs to: a histogram's _bucket/_sum/_count, a summary's _sum/_count.
  const familyOf = (name) => {
    for (const [suffix, types] of [['_bucket', ['histogram']], ['_sum', ['histogram', 'summary']], ['_count', ['histogram', 'summary']]]) {
      if (name.endsWith(suffix)) {
        const base = name.slice(0, -suffix.length);
        if (families.has(base) && types.includes(families.get(base).type)) return base;
      }
    }
    return name;
  };
  lines.forEach((line, index) => {
    const where = `line ${index + 1} ("${line.slice(0, 80)}")`;
    if (line === '') return; // ignored by the format
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) {
        if (/^#\s*(HELP|TYPE)\b/.test(line)) throw new Error(`${where}: malformed HELP or TYPE`);
        return; // a plain comment
      }
      const [, kind, name, rest] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      enter(name, where);
      const f = family(name);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        f.help = unescapeHelp(rest ?? '', where);
      } else {
        if (f.type !== undefined) throw new Error(`${where}: second TYPE for ${name}`);
        if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples of ${name}`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        f.type = rest;
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: not a sample`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
    let labels = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i + 1, where);
    if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const fields = line.slice(i + 1).split(' ');
    if (fields.length < 1 || fields.length > 2 || fields.some((x) => x === '')) throw new Error(`${where}: expected "value [timestamp]"`);
    const value = parseFloatStrict(fields[0], where);
    if (fields.length === 2 && !/^-?\d+$/.test(fields[1])) throw new Error(`${where}: bad timestamp`);
    const fam = familyOf(name);
    enter(fam, where);
    const f = family(fam);
    if (f.type === 'counter' && name !== fam) throw new Error(`${where}: counter sample name differs from its family`);
    if (f.type === 'histogram' && name === fam) throw new Error(`${where}: bare sample of histogram ${fam}`);
    if ('le' in labels && !name.endsWith('_bucket')) throw new Error(`${where}: le outside a bucket`);
    if (name.endsWith('_bucket') && f.type === 'histogram' && !('le' in labels)) throw new Error(`${where}: bucket without le`);
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`${where}: negative counter`);
    const key = seriesKey(name, labels);
    if (seen.has(key)) throw new Error(`${where}: duplicate series`);
    seen.add(key);
    const s = { name, labels, value, family: fam };
    f.samples.push(s);
    samples.push(s);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return { families, samples };
}

function checkHistogram(f) {
  const groups = new Map();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (!groups.has(key)) groups.set(key, { buckets: [], sum: undefined, count: undefined });
    const g = groups.get(key);
    if (s.name === `${f.name}_bucket`) g.buckets.push([parseFloatStrict(le, `${f.name} le`), s.value]);
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
  }
  for (const [key, g] of groups) {
    const where = `histogram ${f.name}${key}`;
    if (g.buckets.length === 0 || g.sum === undefined || g.count === undefined) throw new Error(`${where}: needs buckets, _sum and _count`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i][0] > g.buckets[i - 1][0])) throw new Error(`${where}: le not increasing`);
      if (g.buckets[i][1] < g.buckets[i - 1][1]) throw new Error(`${where}: buckets not cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1];
    if (last[0] !== Infinity) throw new Error(`${where}: no +Inf bucket`);
    if (last[1] !== g.count) throw new Error(`${where}: +Inf bucket ${last[1]} != _count ${g.count}`);
  }
}

/// The value of the sample `name` whose labels include `labels` (undefined: none; several: their sum).
function valueOf(parsed, name, labels = {}) {
  const hits = parsed.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hits.length === 0 ? undefined : hits.reduce((a, s) => a + s.value, 0);
}

// -- the running server --------------------------------------------------------------

let rh;

before(async () => {
  rh = await Relayhost.start({ env: { LOG_FORMAT: 'json', LOG_LEVEL: 'debug' } });
});

after(async () => {
  if (!rh) return;
  await rh.stop();
  rh.cleanup();
});

async function scrape() {
  const res = await fetch(`http://127.0.0.1:${rh.metricsPort}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, parsed: parseExposition(text) };
}

/// Scrapes until `ready(parsed)` holds (metrics are updated just after a response is written).
async function scrapeUntil(ready, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await scrape();
    if (ready(s.parsed) || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function routeTemplates() {
  const res = await rh.fetch('/openapi.json');
  assert.equal(res.status, 200);
  const doc = await res.json();
  return new Set(Object.keys(doc.paths).map((p) => p.replace(/\{([^}]+)\}/g, ':$1')));
}

// -- tests ---------------------------------------------------------------------------

test('the parser accepts the format and rejects what Prometheus would', () => {
  const ok = parseExposition([
    '# HELP a_total Help with \\\\ and \\n escapes.',
    '# TYPE a_total counter',
    'a_total{path="x\\\\y\\"z\\nw",m="GET"} 3',
    'a_total{path="é"} 1e+03',
    '# a plain comment',
    '# TYPE h histogram',
    'h_bucket{le="0.5"} 1',
    'h_bucket{le="+Inf"} 2',
    'h_sum 0.75',
    'h_count 2',
    'g -Inf 1700000000000',
    '',
  ].join('\n'));
  assert.equal(valueOf(ok, 'a_total', { path: 'x\\y"z\nw' }), 3);
  assert.equal(valueOf(ok, 'a_total', { path: 'é' }), 1000);
  assert.equal(ok.families.get('a_total').help, 'Help with \\ and \n escapes.');
  assert.equal(ok.families.get('h').samples.length, 4);
  const bad = [
    'a{l="x} 1\n',
    'a{l="\\q"} 1\n',
    'a{l=x} 1\n',
    'a{1l="x"} 1\n',
    'a{l="x",l="y"} 1\n',
    'a 1 2 3\n',
    'a one\n',
    '1a 2\n',
    'a  1\n',
    'a 1',
    'a 1\na 1\n',
    'a 1\nb 1\na 2\n',
    'a 1\n# TYPE a gauge\n',
    '# TYPE a gauge\n# TYPE a gauge\n',
    '# TYPE a widget\n',
    '# HELP a bad \\t escape\n',
    '# TYPE c counter\nc -1\n',
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
    '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    '# TYPE h histogram\nh 1\n',
  ];
  for (const text of bad) assert.throws(() => parseExposition(text), undefined, JSON.stringify(text));
});

test('/metrics is served on METRICS_ADDR, parses, and has the relayhost metrics', async () => {
  const { text, parsed } = await scrape();
  assert.ok(!text.split('\n').slice(0, -1).includes(''), 'no empty lines');
  for (const [name, type] of [
    ['relayhost_http_requests_total', 'counter'],
    ['relayhost_http_request_duration_seconds', 'histogram'],
    ['relayhost_actors_running', 'gauge'],
    ['relayhost_tenant_actors_loaded', 'gauge'],
    ['relayhost_tenant_actors_spawned_total', 'counter'],
    ['relayhost_storage_transactions_total', 'counter'],
    ['relayhost_storage_writes_total', 'counter'],
    ['relayhost_zooid_sync_queue', 'gauge'],
    ['relayhost_zooid_syncs_total', 'counter'],
    ['relayhost_zooid_health', 'gauge'],
    ['relayhost_tenants', 'gauge'],
    ['relayhost_relays', 'gauge'],
    ['relayhost_actor_live', 'gauge'],
    ['relayhost_actor_mailbox_depth', 'gauge'],
    ['relayhost_actor_messages_total', 'counter'],
    ['relayhost_actor_handling_seconds', 'histogram'],
    ['process_cpu_seconds_total', 'counter'],
    ['process_resident_memory_bytes', 'gauge'],
  ]) {
    const f = parsed.families.get(name);
    assert.ok(f, `${name} is exposed`);
    assert.equal(f.type, type, name);
    assert.ok(f.help && f.help.length > 0, `${name} has HELP`);
  }
  for (const f of parsed.families.values()) {
    assert.ok(f.type, `${f.name} has a TYPE`);
    assert.match(f.name, /^(relayhost|process)_/, 'every metric is namespaced');
  }
  assert.ok(valueOf(parsed, 'relayhost_actors_running') >= 4, 'storage, registry, zooid and poller actors at least');
  assert.equal(valueOf(parsed, 'relayhost_build_info', {}), 1);
});

test('/metrics is not on the public listener; /openapi.json is, as OpenAPI 3.1', async () => {
  const m = await rh.fetch('/metrics');
  assert.equal(m.status, 404);
  assert.equal((await m.json()).code, 'not-found');
  const o = await rh.fetch('/openapi.json');
  assert.equal(o.status, 200);
  assert.match(o.headers.get('content-type'), /^application\/json/);
  const doc = await o.json();
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.ok(doc.paths['/tenant'].get, 'GET /tenant is documented');
  assert.equal(doc.components.securitySchemes.nip98.type, 'http');
  // The metrics listener serves nothing of the API.
  const h = await fetch(`http://127.0.0.1:${rh.metricsPort}/healthz`);
  assert.equal(h.status, 404);
});

test('counters move by exactly the requests made', async () => {
  const series = { route: '/healthz', method: 'GET', status: '200' };
  const before = await scrape();
  const count0 = valueOf(before.parsed, 'relayhost_http_requests_total', series) ?? 0;
  const hist0 = valueOf(before.parsed, 'relayhost_http_request_duration_seconds_count', { route: '/healthz' }) ?? 0;
  const n = 7;
  for (let i = 0; i < n; i++) assert.equal((await rh.fetch('/healthz')).status, 200);
  const after = await scrapeUntil((p) => (valueOf(p, 'relayhost_http_requests_total', series) ?? 0) >= count0 + n);
  assert.equal(valueOf(after.parsed, 'relayhost_http_requests_total', series), count0 + n);
  assert.equal(valueOf(after.parsed, 'relayhost_http_request_duration_seconds_count', { route: '/healthz' }), hist0 + n);

  // A tenant's first call: a tenant actor is spawned (seen by the poller within its
  // interval) and the tenant row is committed.
  const writes0 = valueOf(after.parsed, 'relayhost_storage_writes_total', { outcome: 'committed' });
  const t = new Client(rh);
  assert.equal((await t.get('/tenant')).status, 200);
  const loaded = await scrapeUntil((p) => valueOf(p, 'relayhost_tenant_actors_spawned_total') >= 1, 12000);
  assert.ok(valueOf(loaded.parsed, 'relayhost_tenant_actors_spawned_total') >= 1);
  assert.ok(valueOf(loaded.parsed, 'relayhost_tenant_actors_loaded') >= 1);
  assert.ok(valueOf(loaded.parsed, 'relayhost_storage_writes_total', { outcome: 'committed' }) > writes0);
  assert.equal(valueOf(loaded.parsed, 'relayhost_http_requests_total', { route: '/tenant', method: 'GET', status: '200' }), 1);
});

test('per actor type: live actors, messages handled, handling time and mailbox depth', async () => {
  const actor = (p, name, type) => valueOf(p, name, { type }) ?? 0;
  const before = await scrape();
  const tenant0 = actor(before.parsed, 'relayhost_actor_messages_total', 'tenant');
  const registry0 = actor(before.parsed, 'relayhost_actor_messages_total', 'tenant_registry');
  const storage0 = actor(before.parsed, 'relayhost_actor_messages_total', 'storage');
  // A new tenant: its first call loads it (a storage read) and creates its row (a
  // write). GET /tenant/invoices always goes through the registry to the tenant's
  // actor (other reads of a loaded tenant are answered from its published view).
  const t = new Client(rh);
  assert.equal((await t.get('/tenant')).status, 200);
  const n = 3;
  for (let i = 0; i < n; i++) assert.equal((await t.get('/tenant/invoices')).status, 200);
  // Tenant actors get no other messages here (no relays, so no zooid outcomes): once
  // the answers are written their mailboxes are empty.
  const after = await scrapeUntil(
    (p) => actor(p, 'relayhost_actor_messages_total', 'tenant') >= tenant0 + n && actor(p, 'relayhost_actor_mailbox_depth', 'tenant') === 0,
  );
  const p = after.parsed;
  assert.ok(actor(p, 'relayhost_actor_messages_total', 'tenant') >= tenant0 + n, 'each call is a message to the tenant actor');
  assert.ok(actor(p, 'relayhost_actor_messages_total', 'tenant_registry') >= registry0 + n, 'each call is routed by the registry');
  assert.ok(actor(p, 'relayhost_actor_messages_total', 'storage') >= storage0 + 2, 'a read and a write at least');
  assert.equal(actor(p, 'relayhost_actor_mailbox_depth', 'tenant'), 0);
  for (const type of ['tenant', 'tenant_registry', 'storage']) {
    assert.ok(actor(p, 'relayhost_actor_handling_seconds_count', type) > 0, `${type} handling time observed`);
    assert.ok(actor(p, 'relayhost_actor_handling_seconds_sum', type) >= 0);
  }
  // One of each singleton actor; at least the tenant just loaded.
  // The relay pool always runs; the notifier and identity publisher only when
  // NOSTR_INDEXER_RELAYS is set, which this test does not do.
  for (const type of ['storage', 'tenant_registry', 'zooid_client', 'admin', 'stats_poller', 'relay_pool', 'billing_scheduler'])
    assert.equal(actor(p, 'relayhost_actor_live', type), 1, `one ${type} actor`);
  assert.equal(actor(p, 'relayhost_actor_live', 'notifier'), 0, 'no notifier without indexers');
  assert.ok(actor(p, 'relayhost_actor_live', 'tenant') >= 1);
  // Every series of the families is labelled with one of the known types, and a
  // depth is a whole number of messages.
  const types = new Set(['storage', 'tenant', 'tenant_registry', 'zooid_client', 'admin', 'stats_poller', 'relay_pool', 'notifier', 'identity_publisher', 'nwc_client', 'platform_wallet_checker', 'billing_scheduler']);
  for (const s of p.samples.filter((x) => x.family.startsWith('relayhost_actor_') && 'type' in x.labels)) {
    assert.ok(types.has(s.labels.type), `type label "${s.labels.type}"`);
    if (s.family === 'relayhost_actor_mailbox_depth' || s.family === 'relayhost_actor_live') assert.ok(Number.isInteger(s.value), `${s.name} ${s.value}`);
  }
});

test('10,000 different unknown paths add a bounded number of series', async () => {
  const templates = await routeTemplates();
  const before = await scrape();
  const notFound0 = valueOf(before.parsed, 'relayhost_http_requests_total', { route: '-' }) ?? 0;
  const total = 10000;
  const concurrency = 16;
  const shapes = [
    (i) => ['GET', `/unknown/${i}?q=${i}`],
    (i) => ['GET', `/tenant/relays/${i}/x${i}`],
    (i) => ['POST', `/x${i}`],
    (i) => ['GET', `/admin/${i}/${i}`],
    (i) => ['PATCH', `/p%2F${i}`],
  ];
  let next = 0;
  async function worker() {
    while (next < total) {
      const i = next++;
      const [method, path] = shapes[i % shapes.length](i);
      const res = await rh.fetch(path, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      await res.arrayBuffer();
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const after = await scrapeUntil(
    (p) => (valueOf(p, 'relayhost_http_requests_total', { route: '-' }) ?? 0) >= notFound0 + total,
  );
  // Every request counted, under the one route label of "no template matched".
  assert.equal(valueOf(after.parsed, 'relayhost_http_requests_total', { route: '-' }), notFound0 + total);
  const growth = after.parsed.samples.length - before.parsed.samples.length;
  // At most: route "-" for GET, POST and PATCH (3 counters) + its histogram (buckets,
  // _sum, _count) + the few series other tests or the poller may add meanwhile.
  assert.ok(growth <= 40, `series grew by ${growth}`);
  const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER', '-']);
  for (const s of after.parsed.samples.filter((x) => x.family.startsWith('relayhost_http_'))) {
    const { route, method, status } = s.labels;
    assert.ok(route === '-' || templates.has(route), `route label "${route}" is a template`);
    if (method !== undefined) assert.ok(methods.has(method), `method label "${method}"`);
    if (status !== undefined) assert.match(status, /^\d{3}$/);
  }
  assert.ok(!after.text.includes('/unknown/'), 'no raw path in the exposition');
});

test('LOG_FORMAT=json: every line is a JSON object with time, level and msg', async () => {
  const res = await rh.fetch('/healthz');
  const requestId = res.headers.get('x-request-id');
  assert.ok(requestId);
  // The request's log line is written after the response: wait for it, not a fixed delay.
  await waitFor(() => rh.hasRequestLog(requestId), { timeoutMs: 5000, what: 'the request log line' });
  const lines = rh.output.slice(0, rh.output.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 10);
  for (const line of lines) {
    let j;
    assert.doesNotThrow(() => (j = JSON.parse(line)), `not JSON: ${line}`);
    assert.equal(typeof j, 'object');
    assert.match(j.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, line);
    assert.ok(['debug', 'info', 'warn', 'error'].includes(j.level), line);
    assert.equal(typeof j.msg, 'string', line);
  }
  const logged = lines.map((l) => JSON.parse(l)).find((j) => j.msg === 'http request' && j.id === requestId);
  assert.ok(logged, 'the request is logged with its X-Request-Id');
  assert.equal(logged.route, '/healthz');
  assert.equal(logged.status, '200');
  assert.equal(logged.method, 'GET');
  assert.equal(logged.level, 'info');
  // Scrapes of the metrics listener are logged at debug only (this server runs at
  // LOG_LEVEL=debug, so they are there), not to drown the public requests at info.
  const scrapes = lines.map((l) => JSON.parse(l)).filter((j) => j.msg === 'http request' && j.route === '/metrics');
  assert.ok(scrapes.length > 0, 'earlier tests scraped /metrics');
  for (const j of scrapes) assert.equal(j.level, 'debug');
  // The line operators copy into zooid's configuration.
  const zooid = lines.map((l) => JSON.parse(l)).find((j) => j.msg === 'zooid settings for this relayhost');
  assert.ok(zooid && zooid.API_HOST && /^[0-9a-f]{64}$/.test(zooid.API_WHITELIST));
});

test('an NWC URI in a request body, and the Authorization header, never reach the log', async () => {
  const wallet = getPublicKey(generateSecretKey());
  const secret = Buffer.from(generateSecretKey()).toString('hex');
  const uri = `nostr+walletconnect://${wallet}?relay=wss%3A%2F%2Frelay.test&secret=${secret}`;
  const t = new Client(rh);
  const tokens = [];
  // Signed by hand so the test knows the exact Authorization value sent.
  async function put(text) {
    const url = `${rh.baseUrl}/tenant/billing`;
    const auth = await t.token(url, 'PUT', text === undefined ? undefined : JSON.parse(text));
    tokens.push(auth.replace(/^Nostr /i, ''));
    const res = await fetch(url, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' }, body: text });
    return { status: res.status, raw: await res.text() };
  }
  const ok = await put(JSON.stringify({ nwc_url: uri }));
  assert.equal(ok.status, 200, ok.raw);
  // Rejected bodies that still carry the URI: an unknown field, a wrong type around it.
  const extra = await put(JSON.stringify({ nwc_url: uri, extra: 1 }));
  assert.equal(extra.status, 400);
  const broken = await put(JSON.stringify({ nwc_url: uri.replace('relay=', 'rel=') }));
  assert.equal(broken.status, 400);
  // Not JSON at all (signed without a payload tag, since nostr-tools hashes objects).
  const url = `${rh.baseUrl}/tenant/billing`;
  const auth = await t.token(url, 'PUT');
  tokens.push(auth.replace(/^Nostr /i, ''));
  const garbage = await fetch(url, { method: 'PUT', headers: { authorization: auth }, body: `{"nwc_url": "${uri}"` });
  assert.equal(garbage.status, 400);
  for (const r of [ok, extra, broken, { raw: await garbage.text() }]) {
    assert.ok(!r.raw.includes(secret), 'the secret is in a response');
    assert.ok(!r.raw.includes('walletconnect'), 'the URI is in a response');
  }
  // Check the log only once the last request's own line is in it (so every line those
  // requests caused has been written), not after a guessed delay.
  const lastId = garbage.headers.get('x-request-id');
  await waitFor(() => rh.hasRequestLog(lastId), { timeoutMs: 5000, what: 'the last request log line' });
  assert.ok(!rh.output.includes(secret), 'the NWC secret appeared in the log');
  assert.ok(!rh.output.includes('walletconnect'), 'the NWC URI appeared in the log');
  for (const token of tokens) assert.ok(!rh.output.includes(token.slice(0, 40)), 'an Authorization header appeared in the log');
  await put(JSON.stringify({ nwc_url: null }));
});

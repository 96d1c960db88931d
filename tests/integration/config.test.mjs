// Configuration at start: bad values stop the start with one line naming the
// variable and exit code 2; --help lists every variable of docs/configuration.md; the
// platform key is generated once (mode 0600), its npub printed, never the secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { runToExit, tempDir, Relayhost, SOURCE_DIR } from './lib/relayhost.mjs';

const base = (dir) => ({ DATABASE_URL: `sqlite://${dir}/hosting.db` });

const badValues = [
  ['PORT', 'abc'],
  ['PORT', '70000'],
  ['HOST', 'not a host'],
  ['PUBLIC_URL', 'ftp://example.com'],
  ['ZOOID_API_URL', 'zooid:8032'],
  ['PLATFORM_SECRET', 'deadbeef'],
  ['PLATFORM_SECRET', 'nsec1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq'],
  ['HOSTING_ADMIN_PUBKEYS', 'npub1notakey'],
  ['PLANS', 'free:0,basic:abc'],
  ['PLANS', 'free:0,free:10'],
  ['LOG_LEVEL', 'verbose'],
  ['LOG_FORMAT', 'xml'],
  ['BILLING_GRACE_DAYS', '-1'],
  ['NIP98_MAX_SKEW_SECONDS', '1.5'],
  ['NWC_URL', 'https://wallet.example'],
  ['NOSTR_INDEXER_RELAYS', 'https://relay.example'],
  ['NOSTR_INDEXER_RELAYS', 'wss://ok.example,relay.example'],
  ['PLATFORM_MESSAGING_RELAYS', 'http://inbox.example'],
  ['PLATFORM_MESSAGING_RELAYS', 'wss://user@inbox.example'],
  ['RELAY_MAX_MESSAGE_BYTES', '100'],
  ['RELAY_TIMEOUT_SECONDS', '0'],
  ['RELAY_CA_FILE', '/nonexistent/ca.pem'],
  ['OUTBOX_RETRY_SECONDS', 'soon'],
  ['METRICS_ADDR', 'localhost'],
  ['DATABASE_URL', 'postgres://db/hosting'],
  ['BILLING_TEST_CLOCK', 'yes'],
];

for (const [name, value] of badValues) {
  test(`${name}=${JSON.stringify(value)} stops the start with exit 2 naming ${name}`, async () => {
    const dir = tempDir();
    const r = await runToExit({ ...base(dir), [name]: value });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `exactly one line, got:\n${r.stderr}`);
    assert.match(lines[0], new RegExp(`^relayhost: ${name}: `));
    if (name === 'PLATFORM_SECRET' || name === 'NWC_URL') assert.ok(!r.stderr.includes(value), 'secret echoed');
    assert.ok(!existsSync(path.join(dir, 'hosting.db')), 'a bad config must not create the database');
  });
}

// --help's variables: "  NAME   meaning\n   default: value".
function helpVariables(text) {
  const vars = new Map();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^  ([A-Z][A-Z0-9_]+)\s/);
    if (!m) continue;
    const d = (lines[i + 1] ?? '').match(/^\s+default: (.*)$/);
    vars.set(m[1], d ? d[1] : undefined);
  }
  return vars;
}

// docs/configuration.md's table: "| `NAME` | `default` | meaning |".
function documentedVariables() {
  const doc = readFileSync(path.join(SOURCE_DIR, 'docs/configuration.md'), 'utf8');
  const vars = new Map();
  for (const row of doc.split('\n').filter((l) => l.startsWith('| `'))) {
    const cells = row.split('|').map((c) => c.trim());
    const name = cells[1].replace(/`/g, '');
    const def = cells[2] === '(empty)' ? '(empty)' : cells[2].replace(/^`|`$/g, '');
    vars.set(name, def);
  }
  return vars;
}

test('--help and docs/configuration.md list the same variables with the same defaults', async () => {
  const r = await runToExit({}, ['--help']);
  assert.equal(r.code, 0);
  const help = helpVariables(r.stdout);
  const doc = documentedVariables();
  assert.ok(help.size >= 30, `parsed ${help.size} variables from --help`);
  for (const [name, def] of doc) {
    assert.ok(help.has(name), `docs/configuration.md lists ${name}, --help does not`);
    assert.equal(help.get(name), def, `default of ${name}`);
  }
  for (const name of help.keys()) assert.ok(doc.has(name), `--help lists ${name}, docs/configuration.md does not`);
});

test('an unknown argument is refused with exit 2', async () => {
  const r = await runToExit({}, ['--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown argument/);
});

test('the platform key is generated once, mode 0600, npub printed and the secret never', async () => {
  const dir = tempDir();
  const rh = await Relayhost.start({ dataDir: path.join(dir, 'nested', 'data') });
  try {
    const keyFile = path.join(rh.dataDir, 'platform.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const secret = readFileSync(keyFile, 'utf8').trim();
    assert.match(secret, /^[0-9a-f]{64}$/);
    const npub = rh.output.match(/platform key generated.*npub=(npub1[0-9a-z]+)/)?.[1];
    assert.ok(npub, rh.output);
    await rh.restart();
    assert.match(rh.output, new RegExp(`platform key loaded.*npub=${npub}`));
    assert.ok(!rh.output.includes(secret), 'the platform secret appeared in the output');
  } finally {
    await rh.stop();
    rh.cleanup();
  }
});

test('a key file readable by others is refused', async () => {
  const dir = tempDir();
  const rh = await Relayhost.start({ dataDir: dir });
  await rh.stop();
  chmodSync(path.join(dir, 'platform.key'), 0o644);
  const r = await runToExit(rh.env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^relayhost: PLATFORM_SECRET: .*chmod 600/);
  rh.cleanup();
});

test('a plan that relays use cannot be removed from PLANS: the start stops naming it; putting it back starts', async () => {
  const { Client } = await import('./lib/client.mjs');
  const dir = tempDir();
  const withGold = { ZOOID_API_URL: 'http://127.0.0.1:1', RELAY_DOMAIN: 'spaces.test', PLANS: 'free:0,basic:5000,gold:99000' };
  const rh = await Relayhost.start({ env: withGold, dataDir: dir });
  const tenant = new Client(rh);
  for (const sub of ['gold-one', 'gold-two'])
    assert.equal((await tenant.post('/tenant/relays', { subdomain: sub, name: sub, plan: 'gold' })).status, 201);
  await rh.stop();

  const r = await runToExit({ ...base(dir), ...withGold, PLANS: 'free:0,basic:5000' });
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^relayhost: PLANS: plan "gold" is used by 2 relays but is not in PLANS/);

  const back = await Relayhost.start({ env: withGold, dataDir: dir });
  assert.equal((await new Client(back, tenant.sk).get('/tenant/relays')).json.items.length, 2, 'nothing was changed');
  await back.stop();
  back.cleanup();
});

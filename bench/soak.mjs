// Soak: fixed-rate mixed tenant traffic against the real binary for minutes, with
// billing running underneath, reporting errors, latency and resident memory over
// time (issue 16). Open loop: requests are sent on schedule whether or not earlier
// ones have answered, so a slowdown shows as latency, not as a lower rate.
//
//   node bench/soak.mjs [--build build] [--minutes 10] [--rate 200] [--tenants 200]
//
// Mix: 70 % GET /tenant/relays, 15 % PUT a relay (rename), 10 % POST a relay
// (a third on a paid plan), 5 % GET /tenant/invoices; billing passes run every 5 s,
// and the test clock jumps a month at 1/6 and at 4/6 of the run, so periods close
// and invoices are made, renewed and checked through a platform wallet
// (@getalby/sdk on a loopback relay) while the traffic runs. (Jumping days every few
// seconds instead makes every open invoice due on every pass — a flood of lookups
// that time compression creates and real time does not.) Latency is measured in
// this Node process, which also signs every request (nostr-tools) and runs the
// wallet and its relay: it includes their time. Every 30 s one line: requests, errors (5xx, timeouts, anything unexpected),
// p50/p99 latency, relayhost's RSS. Needs `scripts/setup --tests`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecretKey, getPublicKey } from '../tests/integration/node_modules/nostr-tools/lib/esm/pure.js';
import { Relayhost, freePort } from '../tests/integration/lib/relayhost.mjs';
import { Client } from '../tests/integration/lib/client.mjs';
import { startZooid } from '../tests/integration/lib/zooid_standin.mjs';
import { startRelay } from '../tests/integration/lib/test_relays.mjs';
import { Ledger, startWallet } from '../tests/integration/lib/nwc_wallets.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const build = path.resolve(here, '..', arg('build', 'build'));
const minutes = Number(arg('minutes', '10'));
const rate = Number(arg('rate', '200'));
const tenantCount = Number(arg('tenants', '200'));
process.env.RELAYHOST_BIN = path.join(build, 'relayhost');

const platformSk = generateSecretKey();
const adminSk = generateSecretKey();
const zooidPort = await freePort();
const zooid = await startZooid({ apiHost: `127.0.0.1:${zooidPort}`, whitelist: [getPublicKey(platformSk)], port: zooidPort });
const relay = await startRelay();
const wallet = await startWallet({ relayUrl: relay.url, ledger: new Ledger(), methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
const rh = await Relayhost.start({
  env: {
    RELAY_DOMAIN: 'spaces.test',
    PLATFORM_SECRET: Buffer.from(platformSk).toString('hex'),
    ZOOID_API_URL: `http://127.0.0.1:${zooidPort}`,
    HOSTING_ADMIN_PUBKEYS: getPublicKey(adminSk),
    NWC_URL: wallet.uri,
    BILLING_TEST_CLOCK: '1',
    BILLING_TICK_SECONDS: '5',
    LOG_LEVEL: 'warn',
  },
});
const admin = new Client(rh, adminSk);
const tenants = Array.from({ length: tenantCount }, () => ({ client: new Client(rh), relays: [], n: 0 }));
let serial = 0;

const rss = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${rh.child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
};

async function one() {
  const t = tenants[Math.floor(Math.random() * tenants.length)];
  const c = t.client;
  const p = Math.random();
  if (p < 0.10 || t.relays.length === 0) {
    const res = await c.post('/tenant/relays', { subdomain: `soak-${++serial}`, name: 'n', plan: serial % 3 === 0 ? 'basic' : 'free' });
    if (res.status === 201) t.relays.push(res.json.id);
    return res.status === 201;
  }
  if (p < 0.25) {
    const id = t.relays[Math.floor(Math.random() * t.relays.length)];
    return (await c.put(`/tenant/relays/${id}`, { name: `v${++t.n}` })).status === 200;
  }
  if (p < 0.30) return (await c.get('/tenant/invoices')).status === 200;
  return (await c.get('/tenant/relays')).status === 200;
}

const pct = (xs, q) => (xs.length ? xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] : 0);
let window = { n: 0, errors: 0, lat: [] };
const total = { n: 0, errors: 0 };
const rows = [];
const start = Date.now();
const end = start + minutes * 60_000;
const jump = () => admin.post('/admin/clock', { advance_seconds: 31 * 86400 }).catch(() => {});
const jumps = [setTimeout(jump, (end - start) / 6), setTimeout(jump, (4 * (end - start)) / 6)];
const clockTimer = setInterval(() => {}, 60_000);
const report = () => {
  const row = { t: Math.round((Date.now() - start) / 1000), requests: window.n, errors: window.errors,
    p50_ms: +pct(window.lat, 0.5).toFixed(1), p99_ms: +pct(window.lat, 0.99).toFixed(1), rss_mib: +rss().toFixed(1) };
  rows.push(row);
  console.log(JSON.stringify(row));
  window = { n: 0, errors: 0, lat: [] };
};
const reportTimer = setInterval(report, 30_000);

// Open loop: every 10 ms, send what the schedule says is due.
let sent = 0;
const inflight = new Set();
await new Promise((resolve) => {
  const tick = setInterval(() => {
    const now = Date.now();
    if (now >= end) {
      clearInterval(tick);
      resolve();
      return;
    }
    const due = Math.floor(((now - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const t0 = performance.now();
      const pr = Promise.race([one(), new Promise((r) => setTimeout(() => r(false), 10_000))])
        .catch(() => false)
        .then((ok) => {
          window.n++; total.n++;
          window.lat.push(performance.now() - t0);
          if (!ok) { window.errors++; total.errors++; }
          inflight.delete(pr);
        });
      inflight.add(pr);
    }
  }, 10);
});
await Promise.all(inflight);
clearInterval(reportTimer);
clearInterval(clockTimer);
jumps.forEach(clearTimeout);
report();
const invoices = (await admin.get('/admin/invoices?limit=100')).json?.items?.length ?? 0;
const cpu = readFileSync(`/proc/${rh.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
const cpuSeconds = (Number(cpu[11]) + Number(cpu[12])) / 100;  // utime + stime, in clock ticks
console.log(JSON.stringify({ summary: { minutes, rate, tenants: tenantCount, requests: total.n, errors: total.errors,
  invoices_seen_first_page: invoices, rss_first: rows[0]?.rss_mib, rss_last: rows.at(-1)?.rss_mib,
  relayhost_cpu_seconds: cpuSeconds } }));
await rh.stop();
rh.cleanup();
wallet.stop();
await relay.stop();
await zooid.stop();
process.exit(0);

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
// (@getalby/sdk on a loopback relay, in a child process: bench/soak_wallet.mjs) while the traffic runs. (Jumping days every few
// seconds instead makes every open invoice due on every pass — a flood of lookups
// that time compression creates and real time does not.) Latency is measured in
// this Node process, which also signs every request (nostr-tools): it includes that
// time, and `loop_p99_ms` (this process's event-loop delay) says when the client
// itself was the bottleneck. Every 30 s one line: requests, errors (5xx, timeouts,
// anything unexpected), p50/p99 latency, relayhost's RSS and CPU (% of one core)
// over the window. Needs `scripts/setup --tests`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecretKey, getPublicKey } from '../tests/integration/node_modules/nostr-tools/lib/esm/pure.js';
import { Relayhost, freePort } from '../tests/integration/lib/relayhost.mjs';
import { Client } from '../tests/integration/lib/client.mjs';
import { startZooid } from '../tests/integration/lib/zooid_standin.mjs';

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
const walletProc = spawn(process.execPath, [path.join(here, 'soak_wallet.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
const wallet = JSON.parse(await new Promise((resolve) => createInterface({ input: walletProc.stdout }).once('line', resolve)));
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
const cpuTicks = () => {
  const f = readFileSync(`/proc/${rh.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);  // utime + stime, in clock ticks (1/100 s)
};
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let lastTicks = cpuTicks();
let lastReport = Date.now();

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
    p50_ms: +pct(window.lat, 0.5).toFixed(1), p99_ms: +pct(window.lat, 0.99).toFixed(1), rss_mib: +rss().toFixed(1),
    relayhost_cpu_pct: Math.round((100 * (cpuTicks() - lastTicks)) / ((Date.now() - lastReport) / 10)),
    loop_p99_ms: +(loop.percentile(99) / 1e6).toFixed(1) };
  lastTicks = cpuTicks();
  lastReport = Date.now();
  loop.reset();
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
const cpuSeconds = cpuTicks() / 100;
console.log(JSON.stringify({ summary: { minutes, rate, tenants: tenantCount, requests: total.n, errors: total.errors,
  invoices_seen_first_page: invoices, rss_first: rows[0]?.rss_mib, rss_last: rows.at(-1)?.rss_mib,
  relayhost_cpu_seconds: cpuSeconds } }));
await rh.stop();
rh.cleanup();
walletProc.stdin.end();
await zooid.stop();
process.exit(0);

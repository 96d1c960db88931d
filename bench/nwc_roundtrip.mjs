// NIP-47 round trips through relayhost's own stack (rh_nwc_cli: websocket client →
// relay pool → NWC client actor) against @getalby/sdk's wallet service on a loopback
// relay (@nostr-relay/core), for nip44_v2 and NIP-04 wallets, one request at a time
// (latency) and NWC_MAX_IN_FLIGHT at a time (throughput). Reports round trips/s, the
// client's CPU per round trip (rh_nwc_cli's own getrusage over the requests) and
// the CPU of this Node process (relay + wallet) per round trip, next to the crypto
// floor from bench_nwc_crypto in the same run.
//
//   node bench/nwc_roundtrip.mjs [--build build] [--n 400]
// Needs the test suite's npm packages (scripts/setup --tests) and a build with
// rh_nwc_cli and bench_nwc_crypto.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelay } from '../tests/integration/lib/test_relays.mjs';
import { Ledger, startWallet } from '../tests/integration/lib/nwc_wallets.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const build = path.resolve(here, '..', arg('build', 'build'));
const n = Number(arg('n', '400'));
const cli = path.join(build, 'tests', 'rh_nwc_cli');

function run(uri, requests, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, [uri], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`rh_nwc_cli: ${code} ${err}`));
      resolve({ results: out.trim().split('\n').map((l) => JSON.parse(l)), stats: JSON.parse(err.trim().split('\n').pop()) });
    });
    child.stdin.end(requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });
}

const crypto = spawnSync(path.join(build, 'bench', 'bench_nwc_crypto'), ['2000', '5'], { encoding: 'utf8' });
if (crypto.status !== 0) throw new Error(`bench_nwc_crypto failed: ${crypto.stderr}`);
process.stdout.write(crypto.stdout);
const floorUs = {};
for (const line of crypto.stdout.split('\n')) {
  const m = /^(nip44_v2|nip04)\s+\S+\s+\S+\s+(\S+)/.exec(line);
  if (m) floorUs[m[1]] = Number(m[2]);
}

const relay = await startRelay();
const ledger = new Ledger();
console.log(`\nround trips through a loopback relay, get_info, ${n} per row`);
console.log(['wallet', 'in flight', 'round trips/s', 'client CPU us/rt', 'crypto floor us', 'floor/CPU', 'relay+wallet CPU us/rt'].join(' | '));
for (const encryption of ['nip44', 'nip04']) {
  const wallet = await startWallet({ relayUrl: relay.url, ledger, encryption });
  await run(wallet.uri, [{ method: 'get_info' }], {});  // warm the relay and the wallet
  for (const inFlight of [1, 8]) {
    const requests = Array.from({ length: n }, () => ({ method: 'get_info' }));
    const node0 = process.cpuUsage();
    const { results, stats } = await run(wallet.uri, requests, { NWC_MAX_IN_FLIGHT: String(inFlight), NWC_TIMEOUT_SECONDS: '30' });
    const node = process.cpuUsage(node0);
    const ok = results.filter((r) => r.kind === 'ok').length;
    if (ok !== n) throw new Error(`${n - ok} of ${n} requests did not succeed`);
    const scheme = encryption === 'nip44' ? 'nip44_v2' : 'nip04';
    const cpuUs = (stats.cpu_seconds * 1e6) / n;
    console.log([scheme, inFlight, (n / stats.seconds).toFixed(0), cpuUs.toFixed(0), floorUs[scheme].toFixed(0),
      (floorUs[scheme] / cpuUs).toFixed(2), ((node.user + node.system) / n).toFixed(0)].join(' | '));
  }
  wallet.stop();
}
await relay.stop();
process.exit(0);

// The soak's platform wallet in its own process: a loopback relay and an
// @getalby/sdk wallet service on it. It prints one JSON line ({relay, uri}) and runs
// until stdin closes, so the wallet's work never shows as the soak client's latency.
import { startRelay } from '../tests/integration/lib/test_relays.mjs';
import { Ledger, startWallet } from '../tests/integration/lib/nwc_wallets.mjs';

const relay = await startRelay();
const wallet = await startWallet({ relayUrl: relay.url, ledger: new Ledger(), methods: ['get_info', 'make_invoice', 'lookup_invoice'] });
console.log(JSON.stringify({ relay: relay.url, uri: wallet.uri }));
process.stdin.resume();
process.stdin.on('end', async () => {
  wallet.stop();
  await relay.stop();
  process.exit(0);
});

#!/usr/bin/env node
// Runs the zooid stand-in (lib/zooid_standin.mjs) on loopback until killed, for manual
// experiments and for documentation: one JSON line per call on stdout, status lines on stderr.
//
//   node tests/integration/zooid_standin_main.mjs --port 8032 --whitelist <hex,hex>
//        [--api-host 127.0.0.1:8032] [--tls-key key.pem --tls-cert cert.pem] [--show-secrets]
//
// Relay secrets in logged bodies are replaced by "<redacted>" unless --show-secrets is given.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startZooid } from './lib/zooid_standin.mjs';

function usage(message) {
  process.stderr.write(`${message}\nusage: zooid_standin_main.mjs --port <n> --whitelist <hex,hex> [--api-host host:port] [--tls-key f --tls-cert f] [--show-secrets]\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      whitelist: { type: 'string' },
      'api-host': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      'show-secrets': { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (e) {
  usage(e.message);
}
const port = Number(args.port ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad --port ${args.port}`);
if (!args.whitelist) usage('--whitelist is required (zooid turns its API off without API_WHITELIST)');
for (const pk of args.whitelist.split(',').map((s) => s.trim()).filter(Boolean)) {
  if (!/^[0-9a-f]{64}$/.test(pk)) usage(`whitelist entry is not 64 lowercase hex: ${pk}`);
}
if (Boolean(args['tls-key']) !== Boolean(args['tls-cert'])) usage('--tls-key and --tls-cert go together');
const tls = args['tls-key'] ? { key: readFileSync(args['tls-key']), cert: readFileSync(args['tls-cert']) } : undefined;

function redact(value) {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'secret' && typeof v === 'string' ? '<redacted>' : redact(v)]));
  }
  return value;
}

function printCall(call) {
  const { authEvent, ...rest } = call;
  const line = { ...rest, body: args['show-secrets'] ? call.body : redact(call.body) };
  // zooid's own 400 for a bad secret quotes the secret; keep that out of the log too.
  if (!args['show-secrets'] && line.response && typeof line.response.error === 'string') {
    line.response = { ...line.response, error: line.response.error.replace(/'[^']*'/g, "'<redacted>'") };
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}

const zooid = await startZooid({ port, whitelist: args.whitelist, apiHost: args['api-host'], tls, onCall: printCall });
process.stderr.write(`zooid stand-in listening on ${zooid.url}, API host ${zooid.apiHost}\n`);

const shutdown = async () => {
  await zooid.stop();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

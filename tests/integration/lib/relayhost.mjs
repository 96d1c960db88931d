// Starts the real build/relayhost on a free loopback port with its own data
// directory, waits until /healthz answers, and stops it. Every integration test
// goes through this, so the binary under test is always the one CTest built.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { assertNoSecret, registerNwcUri, registerSecret } from './secrets.mjs';

export const BIN = process.env.RELAYHOST_BIN ?? path.resolve('build/relayhost');
export const SOURCE_DIR = process.env.RELAYHOST_SOURCE_DIR ?? path.resolve('.');

// A port nothing listens on now. The kernel may hand the same ephemeral port to two
// calls in a row (the probe socket is closed before the port is used), which made
// relayhost's HTTP and metrics listeners collide once: a port is given out once per
// process.
const givenPorts = new Set();
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address();
        srv.close(() => resolve(port));
      });
    });
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
}

export function tempDir(prefix = 'relayhost-test-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/// Runs relayhost to completion (for start-up failures): {code, stdout, stderr}.
export function runToExit(env = {}, args = [], timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('relayhost did not exit')); }, timeoutMs);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

export class Relayhost {
  constructor(env, dataDir) {
    this.env = env;
    this.dataDir = dataDir;
    this.output = '';
    this.exited = null;
  }

  get baseUrl() { return `http://127.0.0.1:${this.port}`; }

  /// Starts relayhost; resolves when /healthz answers 200.
  static async start({ env = {}, dataDir = tempDir(), port } = {}) {
    port ??= await freePort();
    const metricsPort = await freePort();
    const fullEnv = {
      PATH: process.env.PATH,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '',
      UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `sqlite://${dataDir}/hosting.db`,
      METRICS_ADDR: `127.0.0.1:${metricsPort}`,
      ...env,
    };
    registerSecret(fullEnv.PLATFORM_SECRET, 'PLATFORM_SECRET');
    registerNwcUri(fullEnv.NWC_URL, 'the platform wallet secret (NWC_URL)');
    const rh = new Relayhost(fullEnv, dataDir);
    rh.port = port;
    rh.metricsPort = metricsPort;
    await rh.#spawn();
    return rh;
  }

  async #spawn() {
    this.exited = null;
    this.child = spawn(BIN, [], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => (this.output += d));
    this.child.stderr.on('data', (d) => (this.output += d));
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => { this.exited = { code, signal }; resolve(this.exited); });
    });
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`relayhost exited during start (${JSON.stringify(this.exited)}):\n${this.output}`);
      try {
        const res = await fetch(`${this.baseUrl}/healthz`);
        if (res.status === 200) return;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.child.kill('SIGKILL');
    throw new Error(`relayhost did not become healthy:\n${this.output}`);
  }

  /// SIGTERM (or another signal) and wait for the exit.
  async stop(signal = 'SIGTERM') {
    if (!this.exited) {
      // A last scrape: no metric may carry a secret either.
      if (signal === 'SIGTERM') {
        try {
          const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, { signal: AbortSignal.timeout(2000) });
          assertNoSecret(await res.text(), '/metrics');
        } catch (e) {
          if (/a secret appears/.test(e.message)) throw e;
        }
      }
      this.child.kill(signal);
      await this.exitPromise;
    }
    this.checkOutput();
    return this.exited;
  }

  /// Fails when relayhost's output (every log line so far) holds a known secret,
  /// the generated platform key included.
  checkOutput() {
    const keyFile = path.join(this.dataDir, 'platform.key');
    if (existsSync(keyFile)) registerSecret(readFileSync(keyFile, 'utf8').trim(), 'the generated platform key');
    assertNoSecret(this.output, 'relayhost output');
  }

  /// Stops and starts again on the same port and data directory.
  async restart(signal = 'SIGTERM') {
    await this.stop(signal);
    await this.#spawn();
  }

  cleanup() {
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /// fetch against the public listener.
  fetch(pathAndQuery, init = {}) {
    return fetch(`${this.baseUrl}${pathAndQuery}`, init);
  }
}

// Starts the real build/relayhost on a free loopback port with its own data
// directory, waits until /healthz answers, and stops it. Every integration test
// goes through this, so the binary under test is always the one CTest built.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { assertNoSecret, registerNwcUri, registerSecret } from './secrets.mjs';

export const BIN = process.env.RELAYHOST_BIN ?? path.resolve('build/relayhost');
export const SOURCE_DIR = process.env.RELAYHOST_SOURCE_DIR ?? path.resolve('.');

// A port nothing listens on now. The kernel may hand the same ephemeral port to two
// calls in a row (the probe socket is closed before the port is used), which made
// relayhost's HTTP and metrics listeners collide once: a port is given out once per
// process. Nothing reserves it, though: another process (ctest -j) may bind it before
// the caller does. Relayhost.start copes with that; a Node stand-in should listen on
// port 0 and report the port it got instead of taking one from here.
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

// Spawns of relayhost tried when a listen port turns out to be taken (see #spawn).
const BIND_ATTEMPTS = 5;

/// For a data directory that does not exist or is empty: a function that makes it so again
/// (relayhost creates the path and fills it at its first start). Null for one in use.
function firstStartUndo(dataDir) {
  let missing = null;
  for (let d = path.resolve(dataDir); !existsSync(d); d = path.dirname(d)) missing = d;
  if (missing) return () => rmSync(missing, { recursive: true, force: true });
  if (readdirSync(dataDir).length > 0) return null;
  return () => {
    for (const f of readdirSync(dataDir)) rmSync(path.join(dataDir, f), { recursive: true, force: true });
  };
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
    // 'close', not 'exit': 'exit' may come before the last output has been read.
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

export class Relayhost {
  constructor(env, dataDir) {
    this.env = env;
    this.dataDir = dataDir;
    this.output = '';
    // What starts that failed on a taken port wrote (see #spawn): scanned for secrets too.
    this.failedOutput = '';
    this.exited = null;
  }

  get baseUrl() { return `http://127.0.0.1:${this.port}`; }

  /// Starts relayhost; resolves when /healthz answers 200. Without `port`, the listen
  /// ports are re-picked when one was taken before relayhost could bind it.
  static async start({ env = {}, dataDir = tempDir(), port } = {}) {
    const portPinned = port !== undefined;
    const undoFirstStart = firstStartUndo(dataDir);
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
    // A port the caller chose, or set through env, is never changed.
    rh.metricsPinned = env.METRICS_ADDR !== undefined;
    await rh.#spawn({ mayMovePort: !portPinned && env.PORT === undefined, undoFirstStart });
    return rh;
  }

  /// Spawns relayhost until it listens. freePort() cannot reserve a port: another process
  /// (ctest -j runs test files in parallel) may bind it between the probe and relayhost's
  /// bind, and relayhost then exits with "cannot listen on HOST:PORT: Address already in
  /// use". Such a start is retried a few times: on a new port where that is allowed (the
  /// metrics port always, unless set through env; the public port only on the first start
  /// without a given port), else on the same port after a pause (a probe holds a port for
  /// microseconds). Any other exit during start is an error at once.
  /// A failed attempt leaves no trace a test could count: its output moves to
  /// failedOutput, and a data directory that was absent or empty before the start is so
  /// again (the retry applies the migrations and generates the key, as a first start does).
  /// (Such an attempt did run for a few milliseconds: relayhost starts its actors before it
  /// binds, then stops them and exits. It is rare enough to accept that.)
  async #spawn({ mayMovePort = false, undoFirstStart = null } = {}) {
    for (let attempt = 1; ; attempt++) {
      const from = this.output.length;
      const inUse = await this.#spawnOnce(from);
      if (!inUse) return;
      this.failedOutput += this.output.slice(from);
      this.output = this.output.slice(0, from);
      if (attempt >= BIND_ATTEMPTS) {
        throw new Error(`relayhost could not bind ${inUse} in ${BIND_ATTEMPTS} attempts:\n${this.failedOutput}`);
      }
      undoFirstStart?.();
      console.error(`relayhost test harness: ${inUse} was taken before relayhost bound it; starting again (attempt ${attempt + 1})`);
      const host = this.env.HOST;
      if (inUse === `${host}:${this.metricsPort}` && !this.metricsPinned) {
        this.metricsPort = await freePort();
        this.env.METRICS_ADDR = `${host}:${this.metricsPort}`;
      } else if (inUse === `${host}:${this.port}` && mayMovePort) {
        this.port = await freePort();
        this.env.PORT = String(this.port);
      } else {
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  /// One spawn: null once relayhost is listening and /healthz answers 200; the address
  /// ("host:port") when it exited because that address was in use; throws otherwise.
  async #spawnOnce(from) {
    this.exited = null;
    this.child = spawn(BIN, [], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => (this.output += d));
    this.child.stderr.on('data', (d) => (this.output += d));
    this.child.on('exit', (code, signal) => { this.exited = { code, signal }; });
    // Resolved on 'close' (after 'exit' and the end of stdout/stderr): whoever awaits
    // the exit then also has every line relayhost wrote.
    this.exitPromise = new Promise((resolve) => this.child.on('close', () => resolve(this.exited)));
    // Our own process is the one listening (not another one that took the port and
    // answers /healthz too) once it logged "relayhost listening" with this address, in
    // the text or the JSON log format. Below info there is no such line to wait for.
    const address = `${this.env.HOST}:${this.port}`;
    const logsInfo = !['warn', 'error'].includes(this.env.LOG_LEVEL);
    const listening = () => !logsInfo || this.output.slice(from).split('\n').some((l) =>
      l.includes('relayhost listening') && (l.includes(`address=${address} `) || l.includes(`"address":"${address}"`)));
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (this.exited) {
        await this.exitPromise;
        const out = this.output.slice(from);
        const inUse = /cannot listen on (\S+): Address already in use/.exec(out);
        if (inUse && this.exited.code !== null && this.exited.code !== 0) return inUse[1];
        throw new Error(`relayhost exited during start (${JSON.stringify(this.exited)}):\n${this.output}`);
      }
      if (listening()) {
        try {
          const res = await fetch(`${this.baseUrl}/healthz`);
          if (res.status === 200) return null;
        } catch { /* not answering yet */ }
      }
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
    assertNoSecret(this.output + this.failedOutput, 'relayhost output');
  }

  /// Whether the completion log line of the request with this X-Request-Id is in the
  /// output (text or JSON format). It is written after the response is sent, so a test
  /// that reads the log waits for this first; "http request received" (debug) carries the
  /// id too but comes before the response, so it does not count, nor does a partial line.
  hasRequestLog(id) {
    const complete = this.output.slice(0, this.output.lastIndexOf('\n') + 1);
    return complete.split('\n').some((l) =>
      (l.includes(' http request method=') && (l.includes(`id=${id} `) || l.endsWith(`id=${id}`)))
      || (l.includes('"msg":"http request"') && l.includes(`"id":"${id}"`)));
  }

  /// Stops and starts again on the same port and data directory.
  async restart(signal = 'SIGTERM') {
    await this.stop(signal);
    await this.#spawn({ mayMovePort: false });
  }

  cleanup() {
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /// fetch against the public listener.
  fetch(pathAndQuery, init = {}) {
    return fetch(`${this.baseUrl}${pathAndQuery}`, init);
  }
}

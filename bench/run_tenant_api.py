#!/usr/bin/env python3
"""The tenant API against its ceiling, measured in the same run (issue 4).

Starts, on this machine:
  * the ceiling: bench_ceiling_server --mode raw (bare Beast + the full NIP-98
    check, answers `{}`),
  * the real relayhost binary on a temporary database,
plus a zooid stand-in (bench_ceiling_server --mode sink: 200 `{}` to everything,
so each new relay's push to zooid succeeds at once, as with a healthy zooid), and
drives both with bench_loadgen, same settings, interleaved round by round
(ceiling and relayhost alternate which goes first) so that load from other
processes hits both alike:
  GET  /tenant/relays  (1,000 tenants, each seeded with 3 relays first)
  POST /tenant/relays  (1,000 other tenants, loaded first; every body a new
                        subdomain, every token a new event id)
Then, unless skipped:
  * relayhost again at LOG_LEVEL=info (one log line per request, to a file),
  * contrast runs: relayhost's HTTP front-end alone (bench_ceiling_server --mode
    relayhost), and POST with bench_tenant_api_server: no zooid push, and no
    zooid push with one commit per write (--max-batch 1).

Prints every run, a summary table (medians over rounds; the ratios are medians of
the per-round ratios of adjacent runs) and writes all of it as JSON.

  python3 bench/run_tenant_api.py --build build-bench [--rounds 4] [--duration 8]
      [--connections 16] [--loadgen-threads 1] [--keys 1000] [--io-threads 2]
      [--skip-info] [--skip-contrast] [--zooid sink|refused] [--json results.json] [--keep-tmp]

Python 3 standard library only. Timing is not pass/fail.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

PLATFORM_SECRET = "7f" * 32  # a fixed platform key: no key file, same runs each time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Server:
    def __init__(self, name, argv, env=None, log_path=None):
        self.name = name
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv(self.port), env=env(self.port) if env else None,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, probe_path, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode} (log: {self.log_path})")
            try:
                urllib.request.urlopen(self.url + probe_path, timeout=1).read()
                return
            except urllib.error.HTTPError:
                return  # answering (401 on the ceiling without a token)
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"{self.name} did not answer on {self.url}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()


RESULT_RE = re.compile(r"requests (\d+)\s+errors (\d+) \(transport (\d+)\)\s+elapsed ([\d.]+) s\s+req/s ([\d.]+)")
LAT_RE = re.compile(r"latency ms\s+p50 ([\d.]+)\s+p90 ([\d.]+)\s+p99 ([\d.]+)\s+max ([\d.]+)")
STATUS_RE = re.compile(r"(\d{3})=(\d+)")


class Bench:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.abspath(os.path.join(a.build, "bench"))
        self.relayhost_bin = os.path.abspath(os.path.join(a.build, "relayhost"))
        self.tmp = tempfile.mkdtemp(prefix="rh-tenant-api-")
        self.runs = []
        self.body_serial = 0
        self.last_rps = {}

    # -- load generator ---------------------------------------------------------

    def loadgen(self, server, method, *, label, key_seed, pool, duration, warmup, body_prefix=None,
                record=True, connections=None):
        argv = [os.path.join(self.bin, "bench_loadgen"), "--url", server.url + "/tenant/relays",
                "--method", method, "--connections", str(connections or self.a.connections),
                "--threads", str(self.a.loadgen_threads), "--duration", str(duration),
                "--warmup", str(warmup), "--pool", str(pool), "--keys", str(self.a.keys),
                "--key-seed", key_seed]
        if method == "POST":
            if body_prefix is None:
                self.body_serial += 1
                body_prefix = f"b{self.body_serial}x"
            argv += ["--body", '{"subdomain":"%s{i}","name":"n","plan":"free"}' % body_prefix]
        load_before = loadavg()
        cpu_before = cpu_seconds(server.proc.pid)
        sink = getattr(self, "sink", None)
        sink_before = cpu_seconds(sink.proc.pid) if sink else 0
        out = subprocess.run(argv, capture_output=True, text=True)
        cpu = cpu_seconds(server.proc.pid) - cpu_before
        sink_cpu = cpu_seconds(sink.proc.pid) - sink_before if sink else 0
        text = out.stdout + out.stderr
        m, l = RESULT_RE.search(text), LAT_RE.search(text)
        if not m or not l:
            raise SystemExit(f"loadgen output not understood:\n{text}")
        w = re.search(r"warm-up [\d.]+ s: (\d+) requests", text)
        answered = int(m.group(1)) + (int(w.group(1)) if w else 0)
        statuses = {int(k): int(v) for k, v in STATUS_RE.findall(text.split("statuses", 1)[1].splitlines()[0])}
        run = {"label": label, "server": server.name, "method": method, "requests": int(m.group(1)),
               "errors": int(m.group(2)), "transport_errors": int(m.group(3)), "elapsed_s": float(m.group(4)),
               "rps": float(m.group(5)), "p50_ms": float(l.group(1)), "p90_ms": float(l.group(2)),
               "p99_ms": float(l.group(3)), "max_ms": float(l.group(4)), "statuses": statuses,
               "server_cpu_s": cpu, "server_cpu_us_per_req": cpu * 1e6 / max(answered, 1),
               "zooid_sink_cpu_us_per_req": sink_cpu * 1e6 / max(answered, 1),
               "exhausted": "ran out" in text, "load_before": load_before, "load_after": loadavg()}
        flag = ""
        if run["errors"]:
            flag += f"  ERRORS {run['errors']} {statuses}"
        if run["exhausted"]:
            flag += "  (pool ran out: raise --pool)"
        print(f"  {label:<22} {server.name:<18} {method:<4} {run['rps']:9.0f} req/s  p50 {run['p50_ms']:7.3f}"
              f"  p99 {run['p99_ms']:7.3f} ms  cpu {run['server_cpu_us_per_req']:5.0f} us/req  load {load_before}{flag}", flush=True)
        if record:
            self.runs.append(run)
            self.last_rps[(server.name, method)] = run["rps"]
        return run

    def pool_for(self, server, method):
        """GET tokens are reused round-robin; a write pool must outlast the run."""
        if method == "GET":
            return self.a.get_pool
        rps = self.last_rps.get((server.name, method), 30000 if server.name.startswith(("ceiling", "front-end")) else 8000)
        return int(rps * self.a.duration * 1.4) + 2000

    # -- servers ------------------------------------------------------------------

    def ceiling(self):
        s = Server("ceiling(raw)",
                   lambda port: [os.path.join(self.bin, "bench_ceiling_server"), "--mode", "raw", "--port",
                                 str(port), "--threads", str(self.a.io_threads)],
                   log_path=os.path.join(self.tmp, "ceiling.log"))
        s.wait_ready("/tenant")
        return s

    def relayhost_env(self, log_level):
        def env(port):
            e = dict(os.environ)
            e.update({
                "DATABASE_URL": "sqlite://" + os.path.join(self.tmp, "data", "hosting.db"),
                "HOST": "127.0.0.1", "PORT": str(port), "PLATFORM_SECRET": PLATFORM_SECRET,
                "LOG_LEVEL": log_level, "IO_THREADS": str(self.a.io_threads),
                "TENANT_IDLE_SECONDS": "3600",
                # sink: every push succeeds (then one more storage write: the relay is
                # synced). refused: nothing listens, every push fails at connect, is
                # recorded as pending (one more write) and retried only after an hour.
                "ZOOID_API_URL": self.zooid_url,
                "ZOOID_RETRY_BASE_SECONDS": "3600", "ZOOID_RETRY_MAX_SECONDS": "3600",
                "METRICS_ADDR": f"127.0.0.1:{free_port()}",
            })
            return e
        return env

    def zooid_sink(self):
        s = Server("zooid-sink",
                   lambda port: [os.path.join(self.bin, "bench_ceiling_server"), "--mode", "sink", "--port",
                                 str(port), "--threads", "1"],
                   log_path=os.path.join(self.tmp, "zooid-sink.log"))
        s.wait_ready("/relay")
        return s

    def relayhost(self, log_level="warn", name="relayhost", argv=None):
        log_path = os.path.join(self.tmp, f"{name}-{log_level}.log")
        s = Server(name, argv or (lambda port: [self.relayhost_bin]), env=self.relayhost_env(log_level),
                   log_path=log_path)
        s.wait_ready("/healthz")
        return s

    # -- phases -------------------------------------------------------------------

    def seed(self, server):
        """3 relays for each GET tenant, 1 for each POST tenant: loads both sets of actors."""
        k = self.a.keys
        r = self.loadgen(server, "POST", label="seed GET tenants", key_seed="get", pool=3 * k, duration=120,
                         warmup=0, body_prefix="ga", record=False)
        if r["statuses"].get(201, 0) != 3 * k:
            raise SystemExit(f"seeding the GET tenants failed: {r['statuses']}")
        r = self.loadgen(server, "POST", label="seed POST tenants", key_seed="post", pool=k, duration=120,
                         warmup=0, body_prefix="sa", record=False)
        if r["statuses"].get(201, 0) != k:
            raise SystemExit(f"seeding the POST tenants failed: {r['statuses']}")

    def warm(self, server, tag):
        """After a restart: one call per tenant of both sets, so every actor is loaded."""
        k = self.a.keys
        self.loadgen(server, "GET", label=f"warm {tag} GET", key_seed="get", pool=k, duration=3, warmup=0,
                     record=False)
        self.loadgen(server, "GET", label=f"warm {tag} POST", key_seed="post", pool=k, duration=3, warmup=0,
                     record=False)

    def interleaved(self, label, ceiling, other, methods, rounds):
        for rnd in range(rounds):
            order = [ceiling, other] if rnd % 2 == 0 else [other, ceiling]
            for method in methods:
                for s in order:
                    key_seed = "get" if method == "GET" else "post"
                    self.loadgen(s, method, label=f"{label} r{rnd + 1}", key_seed=key_seed,
                                 pool=self.pool_for(s, method),
                                 duration=self.a.duration, warmup=self.a.warmup)

    def run(self):
        a = self.a
        sink = None
        if a.zooid == "sink":
            sink = self.zooid_sink()
            self.zooid_url = sink.url
        else:
            self.zooid_url = f"http://127.0.0.1:{free_port()}"
        self.sink = sink
        print(f"machine: {os.cpu_count()} CPUs, load {loadavg()}; temp dir {self.tmp}", flush=True)
        print(f"loadgen: {a.connections} connections, {a.loadgen_threads} thread(s), {a.duration} s runs "
              f"({a.warmup} s warm-up excluded), {a.keys} keys per tenant set; servers: {a.io_threads} io threads",
              flush=True)
        ceiling = self.ceiling()
        try:
            rh = self.relayhost("warn")
            try:
                self.seed(rh)
                print("main: relayhost LOG_LEVEL=warn against the ceiling", flush=True)
                self.interleaved("main", ceiling, rh, ["GET", "POST"], a.rounds)
            finally:
                rh.stop()
            if not a.skip_info:
                rh = self.relayhost("info", name="relayhost(info)")
                try:
                    self.warm(rh, "info")
                    print("logging: relayhost LOG_LEVEL=info (a line per request, to a file)", flush=True)
                    self.interleaved("info", ceiling, rh, ["GET", "POST"], a.info_rounds)
                finally:
                    rh.stop()
                    lines = sum(1 for _ in open(os.path.join(self.tmp, "relayhost(info)-info.log"), "rb"))
                    print(f"  (info log: {lines} lines)")
            if not a.skip_contrast:
                # relayhost's HTTP front-end alone (http::server, a handler answering
                # `{}` on the io thread): what routing, limits and the responder cost.
                fe = Server("front-end only",
                            lambda port: [os.path.join(self.bin, "bench_ceiling_server"), "--mode", "relayhost",
                                          "--port", str(port), "--threads", str(a.io_threads)],
                            log_path=os.path.join(self.tmp, "front-end.log"))
                try:
                    fe.wait_ready("/tenant")
                    print("contrast: relayhost's HTTP front-end alone against the ceiling", flush=True)
                    self.interleaved("contrast", ceiling, fe, ["GET", "POST"], a.contrast_rounds)
                finally:
                    fe.stop()
                server_bin = os.path.join(self.bin, "bench_tenant_api_server")
                for name, extra in [("api(no zooid)", ["--no-zooid"]),
                                    ("api(no zooid,batch1)", ["--no-zooid", "--max-batch", "1"])]:
                    srv = self.relayhost("warn", name=name, argv=lambda port, extra=extra: [server_bin] + extra)
                    try:
                        self.warm(srv, name)
                        print(f"contrast: {name} POST against the ceiling", flush=True)
                        self.interleaved("contrast", ceiling, srv, ["POST"], a.contrast_rounds)
                    finally:
                        srv.stop()
        finally:
            ceiling.stop()
            if sink:
                sink.stop()
        self.summarize()
        if self.a.keep_tmp:
            print(f"kept {self.tmp} (database, server logs)")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- report -------------------------------------------------------------------

    def summarize(self):
        runs = self.runs
        groups = {}
        for r in runs:
            groups.setdefault((r["label"].split()[0], r["server"], r["method"]), []).append(r)

        def med(rs, key):
            return statistics.median(x[key] for x in rs)

        print("\nsummary (medians over rounds)")
        print("| phase | server | method | req/s | p50 ms | p99 ms | server CPU µs/req | rounds | load avg (1 min) before runs |")
        print("|---|---|---|---|---|---|---|---|---|")
        for (phase, server, method), rs in groups.items():
            loads = [float(x["load_before"].split()[0]) for x in rs]
            print(f"| {phase} | {server} | {method} | {med(rs, 'rps'):.0f} | {med(rs, 'p50_ms'):.3f} | "
                  f"{med(rs, 'p99_ms'):.3f} | {med(rs, 'server_cpu_us_per_req'):.0f} | {len(rs)} | {min(loads):.1f}–{max(loads):.1f} |")
        print("\nratios (median of per-round ratios, server ÷ ceiling of the same round)")
        print("| phase | server | method | req/s ratio (per round) | p99 ratio (per round) | CPU/req ratio |")
        print("|---|---|---|---|---|---|")
        summary = []
        for (phase, server, method), rs in groups.items():
            if server.startswith("ceiling"):
                continue
            # the ceiling run of the same round sits next to this run in `runs`
            rr, pr, cr = [], [], []
            for r in rs:
                i = runs.index(r)
                near = [runs[j] for j in (i - 1, i + 1) if 0 <= j < len(runs) and runs[j]["method"] == method
                        and runs[j]["server"].startswith("ceiling") and runs[j]["label"] == r["label"]]
                if not near:
                    continue
                c = near[0]
                rr.append(r["rps"] / c["rps"])
                pr.append(r["p99_ms"] / c["p99_ms"])
                cr.append(r["server_cpu_us_per_req"] / c["server_cpu_us_per_req"])
            if not rr:
                continue
            print(f"| {phase} | {server} | {method} | {statistics.median(rr):.2f} "
                  f"({', '.join(f'{x:.2f}' for x in rr)}) | {statistics.median(pr):.2f} "
                  f"({', '.join(f'{x:.2f}' for x in pr)}) | {statistics.median(cr):.2f} |")
            summary.append({"phase": phase, "server": server, "method": method, "rps_ratios": rr, "p99_ratios": pr,
                            "cpu_ratios": cr})
        if self.a.json:
            with open(self.a.json, "w") as f:
                json.dump({"settings": vars(self.a), "runs": runs, "ratios": summary}, f, indent=1)
            print(f"\nraw results: {self.a.json}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build-bench", help="the build directory (RelWithDebInfo)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--info-rounds", type=int, default=2)
    p.add_argument("--contrast-rounds", type=int, default=2)
    p.add_argument("--duration", type=float, default=8)
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--loadgen-threads", type=int, default=1)
    p.add_argument("--keys", type=int, default=1000)
    p.add_argument("--io-threads", type=int, default=2)
    p.add_argument("--get-pool", type=int, default=20000)
    p.add_argument("--skip-info", action="store_true")
    p.add_argument("--skip-contrast", action="store_true")
    p.add_argument("--zooid", choices=["sink", "refused"], default="sink",
                   help="what relayhost's ZOOID_API_URL points at")
    p.add_argument("--json", default="")
    p.add_argument("--keep-tmp", action="store_true",
                   help="keep the temporary directory (database, server logs); it is kept anyway on failure")
    a = p.parse_args()
    Bench(a).run()


if __name__ == "__main__":
    main()

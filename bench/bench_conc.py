"""Figures 7 and 8 of scripts/bench (issue 16): each connection at its own rate limit at real latency,
with h2r's default concurrency settings (no `scheduler` keys in h2rd.yaml).

  7. one connection, R = 80/s, zoom-sim --latency-ms 150: achieved / R, and the share of 429 answers;
  8. 50 connections, R = 10/s each, one zoom-sim per account (--rate-limit 10 --latency-ms 150):
     aggregate / (50 x 10), and the lowest account's own rate / 10.
 12. idle cost per connection (issue 30): RSS and threads of an idle `h2rd run` with 1, 100 and 1,000
     configured connections (all to one zoom-sim), read from /proc once it has settled.
 11. a service provider's daemon (issue 30): 100 connections, R = 3/s each, 1,200 hires: aggregate /
     300, the lowest account, 429s, and h2rd's threads, CPU per SCIM call and peak RSS against the
     issue's bounds (threads <= 64, <= 0.15 ms CPU per call, < 128 MiB).
 14. figure 11's stretch row: 500 connections, R = 2/s each, 3,000 hires, the same bounds; every account
     in one event-driven simulator (bench/many_sim.py) instead of a zoom-sim each.

bench.py imports this module and passes itself as `b` (Sim, run_child, rate_of, gen_events, ...).
"""
import json
import os
import signal
import subprocess
import sys
import time

LATENCY_MS = 150

SIZES = {
    #                 full   smoke
    "one_rate":      (80,    80),    # 7. R of the one connection
    "one_hires":     (300,   80),    # 7. hires (2 SCIM calls each); fewer would measure the ramp only
    "many_accounts": (50,    4),     # 8. connections, one zoom-sim each
    "many_rate":     (10,    10),    # 8. R of each
    "many_hires":    (40,    6),     # 8. hires per account
    "msp_accounts":  (100,   6),     # 11. connections, one zoom-sim each
    "msp_rate":      (3,     3),     # 11. R of each
    "msp_hires":     (12,    3),     # 11. hires per account (1,200 in all)
    "stretch_accounts": (500, 8),    # 14. figure 11's stretch row: connections, all in one many_sim.py
    "stretch_rate":  (2,     2),     # 14. R of each (1,000/s in all)
    "stretch_hires": (6,     2),     # 14. hires per account (3,000 in all)
    "idle_most":     (1000,  10),    # 12. the largest number of configured connections (also 1 and 1/10 of it)
}


def size(name, smoke):
    return SIZES[name][1 if smoke else 0]


class Env:
    """An h2r folder with default scheduler settings and one connection per zoom-sim."""

    def __init__(self, b, h2rd, root, sims, rate, database="h2r.db", extra_config=""):
        self.b = b
        self.h2rd = h2rd
        self.usage = None   # the rusage of the last run --once
        self.root = root
        self.config = os.path.join(root, "h2rd.yaml")
        self.log_path = os.path.join(root, "h2rd.log")
        self.inbox = os.path.join(root, "inbox")
        os.makedirs(self.inbox, exist_ok=True)
        rules = ["version: 1", "targets:"]
        for name in sims:
            rules += [f"  - connection: {name}", f"    when: {{ field: department, equals: {name} }}"]
        rules += ["roles:", "  - name: staff", "    zoom: { user_type: Basic }", "on_no_role: keep", "attributes:",
                  '  userName: "{email|trim|lower}"', '  name.givenName: "{first_name}"',
                  '  name.familyName: "{last_name}"', '  title: "{job_title}"', "lifecycle:", "  hire: { lead_days: 0 }"]
        with open(os.path.join(root, "rules.yaml"), "w") as f:
            f.write("\n".join(rules) + "\n")
        with open(self.config, "w") as f:
            f.write(f"database: {database}\ninbox: inbox\nrules: rules.yaml\nsecret_key_file: secret.key\n"
                    "timezone: UTC\nlisten: \"\"\nlog: { level: info, format: text }\n"
                    "retry: { max_attempts: 3, base: 1s, max: 2s }\n" + extra_config)
        for name, sim in sims.items():
            with open(self.log_path, "a") as err:
                code, _, _ = b.run_child([h2rd, "-c", self.config, "connection", "add", name,
                                          "--account-id", "acc-demo", "--client-id", "cid-demo",
                                          "--client-secret-stdin", "--oauth-url", sim.url + "/oauth/token",
                                          "--api-url", sim.url + "/scim2", "--rate-limit", str(rate)], 30,
                                         stdin_text=b.SIM_SECRET + "\n", stderr=err)
            if code != 0:
                raise b.BenchError(f"h2rd connection add {name} failed (see {self.log_path})")

    def drop(self, events, name):
        tmp = os.path.join(self.inbox, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for ev in events:
                f.write(json.dumps(ev, separators=(",", ":")) + "\n")
        os.rename(tmp, os.path.join(self.inbox, name))

    def run_once(self, timeout):
        """h2rd run --once: (exit code, wall s, peak RSS KiB, CPU s user+system, threads at most)."""
        with open(self.log_path, "a") as err:
            proc = subprocess.Popen([self.h2rd, "-c", self.config, "run", "--once"], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err)
        start = time.monotonic()
        peak_threads = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                self.usage = usage   # the whole rusage, for the user/kernel split and context switches
                return (proc.returncode, time.monotonic() - start, usage.ru_maxrss, usage.ru_utime + usage.ru_stime,
                        peak_threads)
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("Threads:"):
                            peak_threads = max(peak_threads, int(line.split()[1]))
            except OSError:
                pass
            if time.monotonic() - start > timeout:
                proc.kill()
                proc.wait()
                raise self.b.BenchError(f"h2rd run --once took longer than {timeout:.0f}s (see {self.log_path})")
            time.sleep(0.05)


def hires(b, account, n):
    out = []
    for i in range(1, n + 1):
        ev = b.gen_events.event(account.upper(), i, "hire")
        ev["employee"]["department"] = account
        out.append(ev)
    return out


def start_sim(ctx, b, rate, threads=24):
    # A thread per keep-alive connection, as many as h2r may open to one account (Zoom has no such cap).
    sim = b.Sim(ctx.zoom_sim, ["--rate-limit", str(rate), "--latency-ms", str(LATENCY_MS),
                               "--retry-after-format", "seconds", "--threads", str(threads)])
    ctx.sims.append(sim)
    return sim


def fig7_one_connection(ctx, b):
    """one connection at R=80/s, 150 ms latency, default settings"""
    r = size("one_rate", ctx.smoke)
    n = size("one_hires", ctx.smoke)
    sim = start_sim(ctx, b, r, 96)
    env = Env(b, ctx.h2rd, ctx.dir("fig7"), {"c01": sim}, r)
    env.drop(hires(b, "c01", n), "hires.ndjson")
    before = sim.stats()
    mark = sim.mark()
    code, wall, rss, cpu, threads = env.run_once(60 + 4 * n / r)
    after = sim.stats()
    calls = sim.since(mark)
    answered = [c for c in calls if c[3] != 429]
    n429 = int(after["status"].get("429", 0)) - int(before["status"].get("429", 0))
    creates = sum(1 for c in calls if c[1] == "POST" and c[3] == 201)
    if code != 0 or creates != n:
        raise b.BenchError(f"h2r provisioned {creates} of {n} hires at R={r} (exit {code}; see {env.log_path})")
    achieved = b.rate_of(answered)
    return {"n": n, "R": r, "achieved_rps": achieved, "ratio": achieved / r, "calls": len(calls), "n429": n429,
            "share429": n429 / len(calls) if calls else 0.0, "wall_s": wall, "rss_kib": rss, "cpu_s": cpu,
            "threads": threads}


class ZoomSims:
    """One zoom-sim per account (figures 8 and 11)."""

    def __init__(self, ctx, b, names, r):
        self.ctx = ctx
        self.sims = {name: start_sim(ctx, b, r) for name in names}

    def begin(self):
        self.marks = {name: sim.mark() for name, sim in self.sims.items()}
        self.n429 = sum(int(sim.stats()["status"].get("429", 0)) for sim in self.sims.values())

    def end(self):
        """(each account's SCIM calls since begin(): (monotonic s, method, target, status); 429 answers)"""
        n429 = sum(int(sim.stats()["status"].get("429", 0)) for sim in self.sims.values()) - self.n429
        return {name: sim.since(self.marks[name]) for name, sim in self.sims.items()}, n429

    def stop(self):
        for sim in self.sims.values():
            sim.stop()
            self.ctx.sims.remove(sim)


class ManySim:
    """Every account in one bench/many_sim.py process (figure 14): one asyncio loop, no thread per connection."""

    class Account:
        def __init__(self, url):
            self.url = url

    def __init__(self, ctx, b, names, r):
        self.b = b
        self.proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "many_sim.py"),
                                      "--accounts", str(len(names)), "--rate-limit", str(r),
                                      "--latency-ms", str(LATENCY_MS)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        first = self.proc.stdout.readline()
        try:
            ports = json.loads(first)["ports"]
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise b.BenchError(f"many_sim.py did not start: {first!r}")
        self.names = list(names)
        self.sims = {name: self.Account(f"http://127.0.0.1:{port}") for name, port in zip(self.names, ports)}

    def _calls(self):
        try:
            self.proc.stdin.write("calls\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
            return json.loads(line)["calls"]
        except (OSError, ValueError, KeyError, TypeError):
            raise self.b.BenchError(f"many_sim.py did not answer (exit code {self.proc.poll()})")

    def begin(self):
        self.mark = len(self._calls())

    def end(self):
        per = {name: [] for name in self.names}
        n429 = 0
        for account, t, method, target, status in self._calls()[self.mark:]:
            per[self.names[account]].append((t, method, target, status))
            n429 += status == 429
        return per, n429

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def many_connections(ctx, b, figure, accounts, r, n, simulator=ZoomSims):
    """`accounts` connections at R=r/s each, n hires each, 150 ms latency, default settings"""
    names = [f"c{i:02d}" for i in range(1, accounts + 1)]
    group = simulator(ctx, b, names, r)
    try:
        env = Env(b, ctx.h2rd, ctx.dir(figure), group.sims, r)
        events = [ev for name in names for ev in hires(b, name, n)]
        env.drop(events, "hires.ndjson")
        group.begin()
        code, wall, rss, cpu, threads = env.run_once(60 + 4 * n / r)
        calls_of, n429 = group.end()
    finally:
        group.stop()
    per, everything, creates = {}, [], 0
    for name, calls in calls_of.items():
        answered = [c for c in calls if c[3] != 429]
        creates += sum(1 for c in calls if c[1] == "POST" and c[3] == 201)
        per[name] = b.rate_of(answered) / r
        everything += answered
    if code != 0 or creates != accounts * n:
        raise b.BenchError(f"h2r provisioned {creates} of {accounts * n} hires over {accounts} accounts (exit {code}; "
                           f"see {env.log_path})")
    everything.sort(key=lambda c: c[0])
    aggregate = b.rate_of(everything)
    worst = min(per, key=per.get)
    return {"accounts": accounts, "R": r, "n": n, "aggregate_rps": aggregate, "ratio": aggregate / (accounts * r),
            "worst": worst, "worst_ratio": per[worst], "calls": len(everything), "n429": n429, "wall_s": wall,
            "rss_kib": rss, "cpu_s": cpu, "user_s": env.usage.ru_utime, "kernel_s": env.usage.ru_stime,
            "switches": env.usage.ru_nvcsw + env.usage.ru_nivcsw, "threads": threads}


def fig8_many_connections(ctx, b):
    """50 connections at R=10/s each, 150 ms latency, default settings"""
    return many_connections(ctx, b, "fig8", size("many_accounts", ctx.smoke), size("many_rate", ctx.smoke),
                            size("many_hires", ctx.smoke))


def fig11_msp(ctx, b):
    """100 connections at R=3/s each, 150 ms latency, default settings (a service provider's daemon)"""
    return many_connections(ctx, b, "fig11", size("msp_accounts", ctx.smoke), size("msp_rate", ctx.smoke),
                            size("msp_hires", ctx.smoke))


def fig14_msp_stretch(ctx, b):
    """figure 11's stretch row: 500 connections at R=2/s each, 150 ms latency, default settings"""
    # Every account in one event-driven simulator (bench/many_sim.py): 500 zoom-sims, a thread per
    # keep-alive connection each, took the 2 cores themselves (BENCHMARKS.md, figure 14's reading).
    return many_connections(ctx, b, "fig14", size("stretch_accounts", ctx.smoke), size("stretch_rate", ctx.smoke),
                            size("stretch_hires", ctx.smoke), simulator=ManySim)


def proc_status(pid):
    """(VmRSS KiB, Threads) of a running process."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def fig12_idle(ctx, b):
    """an idle daemon with 1, 100 and 1,000 configured connections: RSS and threads"""
    most = size("idle_most", ctx.smoke)
    sim = ctx.sim
    out = []
    for n in sorted({1, max(1, most // 10), most}):
        env = Env(b, ctx.h2rd, ctx.dir(f"fig12-{n}"), {f"c{i:04d}": sim for i in range(1, n + 1)}, 10)
        with open(env.log_path, "a") as err:
            proc = subprocess.Popen([ctx.h2rd, "-c", env.config, "run"], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 60
            while "daemon.started" not in open(env.log_path).read():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise b.BenchError(f"h2rd run with {n} connections did not start (see {env.log_path})")
                time.sleep(0.05)
            time.sleep(3)   # settled: the first cycle and the connections' first probes are over
            samples = []
            for _ in range(10):
                samples.append(proc_status(proc.pid))
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.append({"connections": n, "rss_kib": max(r for r, _ in samples), "threads": max(t for _, t in samples)})
    return {"points": out}


def rows(res, mark_of):
    out = []
    f = res.get("fig7")
    if isinstance(f, dict):
        out.append((f"7. One connection R={f['R']}/s at {LATENCY_MS} ms, default settings",
                    f"{f['achieved_rps']:.2f} req/s over {f['calls']} calls ({f['n']} hires); {f['n429']} x 429 "
                    f"({100 * f['share429']:.2f}%); h2rd {f['threads']} threads at most, peak RSS "
                    f"{f['rss_kib'] / 1024:.0f} MiB, CPU {1000 * f['cpu_s'] / max(1, f['calls']):.2f} ms/call",
                    f"{f['ratio']:.3f} of R; target >= 0.95 and <= 0.5% 429",
                    mark_of(f["ratio"] >= 0.95 and f["share429"] <= 0.005)))
    f = res.get("fig8")
    if isinstance(f, dict):
        total = f["accounts"] * f["R"]
        out.append((f"8. {f['accounts']} connections x R={f['R']}/s at {LATENCY_MS} ms, default settings",
                    f"{f['aggregate_rps']:.1f} req/s in all over {f['calls']} calls ({f['n']} hires each); lowest "
                    f"account {f['worst']} at {f['worst_ratio']:.3f} of its R; {f['n429']} x 429; h2rd "
                    f"{f['threads']} threads at most, peak RSS {f['rss_kib'] / 1024:.0f} MiB, CPU "
                    f"{1000 * f['cpu_s'] / max(1, f['calls']):.2f} ms/call",
                    f"{f['ratio']:.3f} of {total}/s; target >= 0.95, each account >= 0.9",
                    mark_of(f["ratio"] >= 0.95 and f["worst_ratio"] >= 0.9)))
    for key, label in (("fig11", "11."), ("fig14", "14. Stretch of 11:")):
        f = res.get(key)
        if not isinstance(f, dict):
            continue
        total = f["accounts"] * f["R"]
        ms_per_call = 1000 * f["cpu_s"] / max(1, f["calls"])
        # Where the CPU goes, to read what limits it: h2rd's own code or the kernel (WAL writes, loopback
        # TCP, futex wake-ups), and how often a call puts a thread to sleep and wakes it.
        split = ""
        if "user_s" in f:
            calls = max(1, f["calls"])
            split = (f" (user {1000 * f['user_s'] / calls:.2f} + kernel {1000 * f['kernel_s'] / calls:.2f}, "
                     f"{f['switches'] / calls:.1f} context switches per call)")
        share429 = f["n429"] / max(1, f["calls"] + f["n429"])
        out.append((f"{label} {f['accounts']} connections x R={f['R']}/s at {LATENCY_MS} ms ({f['accounts'] * f['n']} hires), "
                    "default settings",
                    f"{f['aggregate_rps']:.1f} req/s in all over {f['calls']} calls; lowest account {f['worst']} at "
                    f"{f['worst_ratio']:.3f} of its R; {f['n429']} x 429 ({100 * share429:.2f}%); h2rd {f['threads']} "
                    f"threads at most, CPU {ms_per_call:.2f} ms/call{split}, peak RSS {f['rss_kib'] / 1024:.0f} MiB",
                    f"{f['ratio']:.3f} of {total}/s; targets >= 0.95, each >= 0.9, <= 0.5% 429, threads <= 64, "
                    "<= 0.15 ms/call, < 128 MiB",
                    mark_of(f["ratio"] >= 0.95 and f["worst_ratio"] >= 0.9 and share429 <= 0.005 and f["threads"] <= 64
                            and ms_per_call <= 0.15 and f["rss_kib"] < 128 * 1024)))
    f = res.get("fig12")
    if isinstance(f, dict):
        points = f["points"]
        first, last = points[0], points[-1]
        per = (last["rss_kib"] - first["rss_kib"]) / max(1, last["connections"] - first["connections"])
        out.append(("12. Idle daemon: cost per configured connection",
                    "; ".join(f"{p['connections']} connections: RSS {p['rss_kib'] / 1024:.1f} MiB, {p['threads']} threads"
                              for p in points),
                    f"{per:.1f} KiB and {(last['threads'] - first['threads']) / max(1, last['connections'] - first['connections']):.2f} "
                    "threads per connection; no target (tracked)", "-"))
    return out

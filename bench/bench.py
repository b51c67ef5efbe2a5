#!/usr/bin/env python3
"""scripts/bench: how close h2r runs to the limit (issues 8 and 16). Eight figures, each a ratio measured side by
side in one run, against zoom-sim on 127.0.0.1 (ephemeral ports only). See BENCHMARKS.md.

  bench.py --h2rd PATH --zoom-sim PATH [--smoke] [--markdown FILE] [--workdir DIR] [--keep]
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_events  # noqa: E402
import bench_conc  # noqa: E402
import bench_pg  # noqa: E402
import bench_soak  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_SECRET = "sim-secret"          # zoom-sim's default client secret: a test fixture, not a credential
# Far enough ahead that ingested events wait, inside limits.max_future_days (default 1095 days).
FAR_FUTURE = (datetime.date.today() + datetime.timedelta(days=700)).isoformat()

SIZES = {
    #                 full      smoke
    "hires":        (5000,     100),    # 1. provisioning throughput
    "limited":      (300,      30),     # 2. hires under the rate limit (2 SCIM calls each)
    "rate":         (20,       20),     # 2. R, requests/s
    "ingest":       (100_000,  2000),   # 3. events in one file
    "cg_small":     (100,      10),     # 4. callgrind: two sizes, the marginal cost per event
    "cg_large":     (500,      50), 
    "state":        (100_000,  2000),   # 5. employees and links held
    "state_updates": (500,     50),     # 5. update events processed over that state
    "files":        (200,      20),     # 6. files dropped one at a time
    "bulk":         (1_000_000, 5000),  # 7. events in one file: ingest in bounded memory (issue 16 (d))
}


FIGURES = ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "fig9", "fig10", "fig11", "fig12", "fig13", "fig14"]
# Run only when named (--only), except at smoke sizes: figure 13 takes 90 minutes.
LONG_FIGURES = ["fig13"]


def size(name, smoke):
    return SIZES[name][1 if smoke else 0]


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


def wait_until(predicate, timeout, step=0.005, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")


def vm_hwm_kib(pid):
    """The process's peak RSS so far (VmHWM of /proc/PID/status, KiB); 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_child(argv, timeout, stdin_text=None, stdout=None, stderr=None, env=None, cpu_out=None):
    """Runs argv; returns (exit code, wall seconds, peak RSS KiB), bounded by timeout. Peak RSS is VmHWM
    polled every 2 ms (wait4's ru_maxrss also counts the forking Python's own ~24 MiB: subprocess
    uses vfork, and exec records the old memory's high-water mark); ru_maxrss when never read.
    `cpu_out` (a list), when given, gets the child's user + system CPU seconds appended."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                            stdout=stdout or subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL, env=env,
                            text=True)
    if stdin_text is not None:
        proc.stdin.write(stdin_text)
        proc.stdin.close()
    deadline = start + timeout
    hwm = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            wall = time.monotonic() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            if cpu_out is not None:
                cpu_out.append(usage.ru_utime + usage.ru_stime)
            return proc.returncode, wall, hwm or usage.ru_maxrss
        hwm = max(hwm, vm_hwm_kib(proc.pid))
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise BenchError(f"{os.path.basename(argv[0])} took longer than {timeout}s: {' '.join(argv[1:4])}")
        time.sleep(0.002)


# ---- zoom-sim ---------------------------------------------------------------------------------------

class Sim:
    """zoom-sim with --verbose: each answered request is one stderr line, timestamped here on arrival."""
    LINE = re.compile(r"^zoom-sim: (\S+) (\S+) -> (\d+)$")

    def __init__(self, binary, extra_args=()):
        self.proc = subprocess.Popen([binary, "--port", "0", "--verbose", "--seed", "7", *extra_args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lock = threading.Lock()
        self.calls = []   # (monotonic seconds, method, target, status) of SCIM calls only
        first = self._read_first_line(10)
        m = re.search(r"listening on ([\d.]+):(\d+)", first)
        if not m:
            self.stop()
            raise BenchError(f"zoom-sim did not start: {first!r}")
        self.url = f"http://{m.group(1)}:{m.group(2)}"
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()

    def _read_first_line(self, timeout):
        box = []
        t = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        return box[0] if box else ""

    def _read_stderr(self):
        for line in self.proc.stderr:
            now = time.monotonic()
            m = self.LINE.match(line.rstrip("\n"))
            if m and m.group(2).startswith("/scim2/"):
                with self.lock:
                    self.calls.append((now, m.group(1), m.group(2), int(m.group(3))))

    def mark(self):
        with self.lock:
            return len(self.calls)

    def since(self, mark):
        with self.lock:
            return list(self.calls[mark:])

    def count(self, mark, method=None):
        with self.lock:
            return sum(1 for c in self.calls[mark:] if method is None or c[1] == method)

    def http(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
        return json.loads(text) if text else None

    def stats(self):
        return self.http("GET", "/_sim/stats")

    def reset(self):
        self.http("POST", "/_sim/reset")

    def token(self):
        import base64
        basic = base64.b64encode(f"cid-demo:{SIM_SECRET}".encode()).decode()
        req = urllib.request.Request(self.url + "/oauth/token?grant_type=account_credentials&account_id=acc-demo",
                                     data=b"", method="POST", headers={"Authorization": "Basic " + basic})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())["access_token"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def rate_of(calls):
    """Requests per second over a run of calls: (count - 1) / (last - first)."""
    if len(calls) < 2:
        return 0.0
    span = calls[-1][0] - calls[0][0]
    return (len(calls) - 1) / span if span > 0 else 0.0


# ---- h2r environments -------------------------------------------------------------------------------

RULES = """version: 1
targets:
  - connection: bench
roles:
  - name: staff
    zoom: { user_type: Basic }
on_no_role: keep
attributes:
  userName: "{email|trim|lower}"
  name.givenName: "{first_name}"
  name.familyName: "{last_name}"
  displayName: "{first_name} {last_name}"
  title: "{job_title}"
  enterprise.department: "{department}"
  enterprise.employeeNumber: "{employee_id}"
  enterprise.manager: "{manager_email}"
  enterprise.costCenter: "{cost_center}"
lifecycle:
  hire: { lead_days: 0 }
"""


class H2r:
    def __init__(self, h2rd, root, sim_url, workers=8, rate_limit=10000, interval="30s", extra_config="",
                 max_workers=None):
        self.h2rd = h2rd
        self.root = root
        self.inbox = os.path.join(root, "inbox")
        self.config = os.path.join(root, "h2rd.yaml")
        self.log_path = os.path.join(root, "h2rd.log")
        os.makedirs(self.inbox, exist_ok=True)
        with open(os.path.join(root, "rules.yaml"), "w") as f:
            f.write(RULES)
        with open(self.config, "w") as f:
            f.write(f"database: h2r.db\ninbox: inbox\nrules: rules.yaml\nsecret_key_file: secret.key\n"
                    f"timezone: UTC\nscheduler: {{ interval: {interval}, workers: {workers}"
                    + (f", max_connection_workers: {max_workers}" if max_workers else "") + " }\nlisten: \"\"\n"
                    f"log: {{ level: info, format: text }}\nretry: {{ max_attempts: 3, base: 1s, max: 2s }}\n"
                    + extra_config)
        code, _, _ = run_child([h2rd, "-c", self.config, "connection", "add", "bench", "--account-id", "acc-demo",
                                "--client-id", "cid-demo", "--client-secret-stdin",
                                "--oauth-url", sim_url + "/oauth/token", "--api-url", sim_url + "/scim2",
                                "--rate-limit", str(rate_limit)], 30, stdin_text=SIM_SECRET + "\n",
                               stderr=self._log())
        if code != 0:
            raise BenchError(f"h2rd connection add failed (see {self.log_path})")

    def _log(self):
        return open(self.log_path, "a")

    def db(self):
        return os.path.join(self.root, "h2r.db")

    def drop(self, src, name):
        """Moves src into the inbox the way HR systems must: a hidden name, then a rename. Returns the
        monotonic time just before the rename."""
        tmp = os.path.join(self.inbox, "." + name + ".tmp")
        shutil.copyfile(src, tmp)
        t = time.monotonic()
        os.rename(tmp, os.path.join(self.inbox, name))
        return t

    def run_once(self, timeout, wrap=(), cpu_out=None):
        with self._log() as err:
            return run_child([*wrap, self.h2rd, "-c", self.config, "run", "--once"], timeout, stderr=err,
                             cpu_out=cpu_out)

    def start_daemon(self):
        self.daemon_log = self._log()
        self.daemon_log_start = os.path.getsize(self.log_path)
        proc = subprocess.Popen([self.h2rd, "-c", self.config, "run"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=self.daemon_log)

        def started():
            with open(self.log_path) as f:
                f.seek(self.daemon_log_start)
                return "daemon.started" in f.read()
        wait_until(lambda: started() or proc.poll() is not None, 15, 0.01, "h2rd run to start")
        if proc.poll() is not None:
            raise BenchError(f"h2rd run exited at start (see {self.log_path})")
        time.sleep(0.3)   # the inbox thread adds its inotify watch just before the first scan
        return proc

    def log_count(self, text):
        """How many lines of the running daemon's log contain `text`."""
        with open(self.log_path) as f:
            f.seek(self.daemon_log_start)
            return sum(1 for line in f if text in line)

    def stop_daemon(self, proc, timeout=15):
        """SIGTERM, then wait4: returns the daemon's peak RSS in KiB."""
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                self.daemon_log.close()
                return usage.ru_maxrss
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise BenchError("h2rd run did not stop within 15s of SIGTERM")
            time.sleep(0.01)

    def sql(self, statement):
        out = subprocess.run(["sqlite3", self.db(), statement], capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise BenchError(f"sqlite3: {out.stderr.strip()}")
        return out.stdout.strip()


# ---- the six figures --------------------------------------------------------------------------------

def run_wrk(sim, lua, mode, requests, wrk_bin, timeout):
    """wrk -t2 -c8 against POST /Users until `requests` SCIM calls were answered; the rate is taken from
    zoom-sim's own log, the same way as h2r's. Returns (rate, wrk's CPU seconds per request it made):
    wrk's CPU is the growth of this process's reaped children's (no other child ends meanwhile)."""
    token = sim.token()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = dict(os.environ, H2R_BENCH_TOKEN=token, H2R_BENCH_MODE=mode, H2R_BENCH_BASE="/scim2")
    mark = sim.mark()
    proc = subprocess.Popen([wrk_bin, "-t2", "-c8", f"-d{int(timeout)}s", "-s", lua, sim.url + "/scim2/Users"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        wait_until(lambda: sim.count(mark) >= requests or proc.poll() is not None, timeout, 0.01, "wrk")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    made = sim.since(mark)
    calls = made[:requests]
    bad = sum(1 for c in calls if c[3] >= 300)
    if bad:
        raise BenchError(f"wrk ({mode}): {bad} of {len(calls)} calls failed; output: {out[-500:]}")
    return rate_of(calls), wrk_cpu / max(1, len(made))


def fig1_throughput(ctx):
    n = size("hires", ctx.smoke)
    sim = ctx.sim
    sim.reset()
    wrk_create, wrk_create_cpu = run_wrk(sim, ctx.lua, "create", n, ctx.wrk, 300)
    sim.reset()
    wrk_mix, wrk_mix_cpu = run_wrk(sim, ctx.lua, "mix", 2 * n, ctx.wrk, 300)
    sim.reset()
    # 8 connections, as wrk -c8: a lane sized from rate 10000/s would open more keep-alive connections
    # than zoom-sim has threads (16), and the extra ones would wait for its 5 s keep-alive timeout.
    env = H2r(ctx.h2rd, ctx.dir("fig1"), sim.url, workers=8, rate_limit=10000, max_workers=8)
    events = ctx.file("fig1.ndjson")
    gen_events.write_events(events, n, "E", None, "hire")
    env.drop(events, "hires.ndjson")
    mark = sim.mark()
    cpu = []
    code, wall, rss = env.run_once(600, cpu_out=cpu)
    calls = sim.since(mark)
    creates = sum(1 for c in calls if c[1] == "POST" and c[3] == 201)
    if code != 0 or creates != n:
        raise BenchError(f"h2r provisioned {creates} of {n} hires (exit {code}; see {env.log_path})")
    h2r_rate = rate_of(calls)
    h2r_cpu = cpu[0] / max(1, len(calls))
    ctx.fig1_env = env
    return {
        "n": n, "h2r_rps": h2r_rate, "h2r_calls": len(calls), "h2r_wall_s": wall,
        "wrk_create_rps": wrk_create, "wrk_mix_rps": wrk_mix,
        "ratio": h2r_rate / wrk_create if wrk_create else 0.0,
        "ratio_mix": h2r_rate / wrk_mix if wrk_mix else 0.0,
        # Issue 30's restatement: CPU per SCIM call, h2rd's own against wrk's own (GET+POST, as h2r's mix).
        "h2r_cpu_ms": 1000 * h2r_cpu, "wrk_cpu_ms": 1000 * wrk_mix_cpu, "wrk_create_cpu_ms": 1000 * wrk_create_cpu,
        "cpu_ratio": h2r_cpu / wrk_mix_cpu if wrk_mix_cpu else 0.0,
    }


def fig2_rate_limited(ctx):
    r = size("rate", ctx.smoke)
    n = size("limited", ctx.smoke)
    sim = Sim(ctx.zoom_sim, ["--rate-limit", str(r), "--retry-after-format", "seconds"])
    ctx.sims.append(sim)
    env = H2r(ctx.h2rd, ctx.dir("fig2"), sim.url, workers=8, rate_limit=r)
    events = ctx.file("fig2.ndjson")
    gen_events.write_events(events, n, "R", None, "hire")
    env.drop(events, "hires.ndjson")
    before = sim.stats()
    mark = sim.mark()
    code, wall, _ = env.run_once(60 + 4 * n / r * 2)
    calls = sim.since(mark)
    after = sim.stats()
    answered = [c for c in calls if c[3] != 429]
    n429 = int(after["status"].get("429", 0)) - int(before["status"].get("429", 0))
    creates = sum(1 for c in calls if c[1] == "POST" and c[3] == 201)
    if code != 0 or creates != n:
        raise BenchError(f"h2r provisioned {creates} of {n} hires under the rate limit (exit {code})")
    achieved = rate_of(answered)
    return {"n": n, "R": r, "achieved_rps": achieved, "ratio": achieved / r, "calls": len(calls), "n429": n429,
            "share429": n429 / len(calls) if calls else 0.0, "wall_s": wall}


def fig3_ingest(ctx):
    n = size("ingest", ctx.smoke)
    env = H2r(ctx.h2rd, ctx.dir("fig3"), ctx.sim.url)
    events = ctx.file("fig3.ndjson")
    gen_events.write_events(events, n, "I", FAR_FUTURE, "hire")
    env.drop(events, "bulk.ndjson")
    code, wall, rss = env.run_once(900)
    stored = int(env.sql("SELECT COUNT(*) FROM events WHERE state = 'waiting'") or 0)
    if code != 0 or stored != n:
        raise BenchError(f"ingest stored {stored} of {n} events (exit {code}; see {env.log_path})")
    schema = ctx.file("schema.sql")
    with open(schema, "w") as f:
        f.write(env.sql(".schema"))
    sql = ctx.file("fig3.sql")
    gen_events.write_sql(sql, n, "I", FAR_FUTURE, schema)
    base_db = os.path.join(ctx.dir("fig3-sqlite"), "plain.db")
    with open(sql) as script:
        start = time.monotonic()
        out = subprocess.run(["sqlite3", base_db], stdin=script, capture_output=True, text=True, timeout=900)
        base_wall = time.monotonic() - start
    if out.returncode != 0:
        raise BenchError(f"sqlite3 bulk insert failed: {out.stderr[:300]}")
    h2r_eps, base_eps = n / wall, n / base_wall
    return {"n": n, "h2r_eps": h2r_eps, "h2r_wall_s": wall, "sqlite_eps": base_eps, "sqlite_wall_s": base_wall,
            "ratio": h2r_eps / base_eps, "rss_kib": rss,
            "file_mib": os.path.getsize(events) / 2**20}


def run_stdin_file(argv, path, timeout):
    """Runs argv with stdin from the file at `path`; returns (exit code, wall seconds, peak RSS KiB)."""
    with open(path) as stdin:
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = start + timeout
        hwm = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                return os.waitstatus_to_exitcode(status), time.monotonic() - start, hwm or usage.ru_maxrss
            hwm = max(hwm, vm_hwm_kib(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise BenchError(f"{argv[0]} took longer than {timeout}s")
            time.sleep(0.002)


def fig9_bulk_ingest(ctx):
    """(d) ingest in bounded memory: one very large ndjson file"""
    n = size("bulk", ctx.smoke)
    env = H2r(ctx.h2rd, ctx.dir("fig9"), ctx.sim.url, extra_config="limits: { max_file_bytes: 4GiB }\n")
    hidden = os.path.join(env.inbox, ".bulk.ndjson.tmp")
    gen_events.write_events(hidden, n, "B", FAR_FUTURE, "hire")
    file_mib = os.path.getsize(hidden) / 2**20
    os.rename(hidden, os.path.join(env.inbox, "bulk.ndjson"))
    code, wall, rss = env.run_once(3600)
    stored = int(env.sql("SELECT COUNT(*) FROM events WHERE state = 'waiting'") or 0)
    if code != 0 or stored != n:
        raise BenchError(f"bulk ingest stored {stored} of {n} events (exit {code}; see {env.log_path})")
    db_mib = os.path.getsize(env.db()) / 2**20
    schema = ctx.file("schema9.sql")
    with open(schema, "w") as f:
        f.write(env.sql(".schema"))
    shutil.rmtree(env.root, ignore_errors=True)   # the 1M-event database and file: disk for the baseline
    sql = ctx.file("fig9.sql")
    gen_events.write_sql(sql, n, "B", FAR_FUTURE, schema)
    base_db = os.path.join(ctx.dir("fig9-sqlite"), "plain.db")
    base_code, base_wall, base_rss = run_stdin_file(["sqlite3", base_db], sql, 3600)
    os.remove(sql)
    shutil.rmtree(ctx.dir("fig9-sqlite"), ignore_errors=True)
    if base_code != 0:
        raise BenchError(f"sqlite3 bulk insert failed (exit {base_code})")
    h2r_eps, base_eps = n / wall, n / base_wall
    return {"n": n, "file_mib": file_mib, "db_mib": db_mib, "h2r_eps": h2r_eps, "h2r_wall_s": wall,
            "rss_kib": rss, "sqlite_eps": base_eps, "sqlite_wall_s": base_wall, "sqlite_rss_kib": base_rss,
            "ratio": h2r_eps / base_eps}


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise BenchError(f"no totals in {path}")


def callgrind_inclusive(path, symbol):
    """Inclusive Ir of the first function whose name contains `symbol` (callgrind_annotate --inclusive)."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path], capture_output=True,
                         text=True, timeout=300).stdout
    for line in out.splitlines():
        if symbol in line:
            m = re.match(r"\s*([\d,]+)", line)
            if m:
                return int(m.group(1).replace(",", ""))
    return 0


def callgrind_run(ctx, tag, n, prefix, effective, workers=8, timeout=900):
    """`h2rd run --once` under callgrind over n hires (effective None = due now); its total Ir and its output file."""
    env = H2r(ctx.h2rd, ctx.dir(f"fig4-{tag}-{n}"), ctx.sim.url, workers=workers)
    events = ctx.file(f"fig4-{tag}-{n}.ndjson")
    gen_events.write_events(events, n, f"{prefix}{n}x", effective, "hire")
    env.drop(events, "cg.ndjson")
    out = ctx.file(f"callgrind.{tag}.{n}")
    code, _, _ = env.run_once(timeout, wrap=["valgrind", "--tool=callgrind", "--dump-instr=no",
                                             f"--callgrind-out-file={out}"])
    if code != 0:
        raise BenchError(f"callgrind {tag} run failed (exit {code})")
    return callgrind_total(out), out


def fig4_instructions(ctx):
    small, large = size("cg_small", ctx.smoke), size("cg_large", ctx.smoke)
    # Ingest alone (events effective far ahead: stored as waiting, nothing sent), at two sizes.
    ingest = {n: callgrind_run(ctx, "ingest", n, "C", FAR_FUTURE)[0] for n in (small, large)}
    ingest_marginal = (ingest[large] - ingest[small]) / (large - small)
    # The whole path for due hires: ingest, plan, two SCIM calls each, record the outcome. Run at both
    # sizes: the difference per hire is the marginal cost (start-up, rules load and migrations cancel out);
    # the large run's total per hire is kept too (the figure's earlier method, start-up included).
    full = {n: callgrind_run(ctx, "full", n, "F", None, workers=2, timeout=1800) for n in (small, large)}
    full_total, out = full[large]
    plan_incl = callgrind_inclusive(out, "h2r::plan_event(")
    ctx.callgrind_full = out
    return {"small": small, "large": large, "ingest_total_small": ingest[small], "ingest_total_large": ingest[large],
            "ingest_per_event": ingest_marginal, "plan_per_event": plan_incl / large,
            "ingest_plan_per_event": ingest_marginal + plan_incl / large,
            "full_marginal": (full_total - full[small][0]) / (large - small),
            "full_per_event": full_total / large, "full_total": full_total}


def fig5_rss(ctx):
    target = size("state", ctx.smoke)
    updates = size("state_updates", ctx.smoke)
    src = ctx.fig1_env
    root = ctx.dir("fig5")
    env = H2r(ctx.h2rd, root, ctx.sim.url, workers=8, rate_limit=10000)
    # Same database and key as fig. 1's (its users exist in zoom-sim), cloned up to `target` employees.
    for name in ("h2r.db", "secret.key"):
        shutil.copyfile(os.path.join(src.root, name), os.path.join(root, name))
    for suffix in ("-wal", "-shm"):
        for base in (env.db(),):
            if os.path.exists(base + suffix):
                os.remove(base + suffix)
    os.chmod(os.path.join(root, "secret.key"), 0o600)
    env.sql(f"UPDATE connections SET api_url = '{ctx.sim.url}/scim2', oauth_url = '{ctx.sim.url}/oauth/token'")
    have = int(env.sql("SELECT COUNT(*) FROM employees"))
    extra = max(0, target - have)
    copies = math.ceil(extra / max(have, 1))
    cte = f"WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < {copies}) "
    env.sql("BEGIN; " + cte +
            "INSERT INTO employees SELECT e.employee_id || '-c' || k.n, e.record, e.status, e.updated_at_ms "
            f"FROM employees AS e, k LIMIT {extra}; " + cte +
            "INSERT INTO links (connection, employee_id, zoom_user_id, user_name, pushed_digest, active, updated_at_ms, "
            "pushed_body, pushed_at_ms, pushed_groups) "
            "SELECT l.connection, l.employee_id || '-c' || k.n, l.zoom_user_id || '-c' || k.n, "
            "'c' || k.n || '.' || l.user_name, l.pushed_digest, l.active, l.updated_at_ms, "
            "l.pushed_body, l.pushed_at_ms, l.pushed_groups "
            f"FROM links AS l, k LIMIT {extra}; " + cte +
            "INSERT INTO events (event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, "
            "due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, "
            "updated_at_ms) SELECT v.event_id || '-c' || k.n, v.type, v.leave_type, v.employee_id || '-c' || k.n, "
            "v.fields, v.effective_raw, v.effective_at_ms, v.due_at_ms, v.source_file, v.state, v.reason, "
            "v.attempts, v.approved, v.rules_version, v.result, v.received_at_ms, v.updated_at_ms "
            f"FROM events AS v, k LIMIT {extra}; COMMIT;")
    employees = int(env.sql("SELECT COUNT(*) FROM employees"))
    links = int(env.sql("SELECT COUNT(*) FROM links"))
    db_mib = os.path.getsize(env.db()) / 2**20
    updates = min(updates, have)
    events = ctx.file("fig5.ndjson")
    gen_events.write_events(events, updates, "E", None, "update")
    mark = ctx.sim.mark()
    proc = env.start_daemon()
    try:
        env.drop(events, "updates.ndjson")
        wait_until(lambda: ctx.sim.count(mark, "PUT") >= updates or proc.poll() is not None, 300, 0.05,
                   f"{updates} updates over the {employees}-employee state")
        time.sleep(0.5)
    finally:
        rss = env.stop_daemon(proc)
    puts = ctx.sim.count(mark, "PUT")
    if puts < updates:
        raise BenchError(f"only {puts} of {updates} updates reached zoom-sim (see {env.log_path})")
    return {"employees": employees, "links": links, "db_mib": db_mib, "updates": updates, "rss_kib": rss}


def fig6_latency(ctx):
    files = size("files", ctx.smoke)
    env = H2r(ctx.h2rd, ctx.dir("fig6"), ctx.sim.url, workers=4)
    proc = env.start_daemon()
    latencies = []
    try:
        for i in range(1, files + 1):
            path = ctx.file(f"fig6-{i}.json")
            with open(path, "w") as f:
                json.dump(gen_events.event("L", i, "hire"), f)
            mark = ctx.sim.mark()
            t0 = env.drop(path, f"drop-{i:04d}.json")
            wait_until(lambda: ctx.sim.count(mark) >= 1 or proc.poll() is not None, 10, 0.0005, f"file {i}'s first call")
            first = ctx.sim.since(mark)[0][0]
            latencies.append((first - t0) * 1000)
            # The next file only once this one's cycle is over, so each drop meets an idle daemon.
            wait_until(lambda: env.log_count("cycle.done") >= i or proc.poll() is not None, 10, 0.001,
                       f"file {i}'s cycle")
    finally:
        env.stop_daemon(proc)
    latencies.sort()

    def pct(p):
        return latencies[max(0, math.ceil(p / 100 * len(latencies)) - 1)]
    return {"files": files, "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": latencies[-1], "min_ms": latencies[0]}


def fig7_one_connection(ctx):
    """one connection at R=80/s, 150 ms latency, default settings (bench_conc.py)"""
    return bench_conc.fig7_one_connection(ctx, sys.modules[__name__])


def fig8_many_connections(ctx):
    """50 connections at R=10/s each, 150 ms latency, default settings (bench_conc.py)"""
    return bench_conc.fig8_many_connections(ctx, sys.modules[__name__])


def fig11_msp(ctx):
    """100 connections at R=3/s each, 150 ms latency, default settings (bench_conc.py)"""
    return bench_conc.fig11_msp(ctx, sys.modules[__name__])


def fig14_msp_stretch(ctx):
    """figure 11's stretch row: 500 connections at R=2/s each, 150 ms latency, default settings (bench_conc.py)"""
    return bench_conc.fig14_msp_stretch(ctx, sys.modules[__name__])


def fig12_idle(ctx):
    """an idle daemon with 1, 100 and 1,000 configured connections (bench_conc.py)"""
    return bench_conc.fig12_idle(ctx, sys.modules[__name__])


def fig13_soak(ctx):
    """steady memory: 90 minutes at ~4 events/s (bench_soak.py)"""
    return bench_soak.fig13_soak(ctx, sys.modules[__name__])


def fig10_daemons(ctx):
    """1, 2 and 3 daemons on PostgreSQL against one on SQLite (bench_pg.py)"""
    return bench_pg.fig10_daemons(ctx, sys.modules[__name__])


# ---- report -----------------------------------------------------------------------------------------

def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
        except subprocess.SubprocessError:
            return "?"
    model = sh("lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1")
    mem_kib = int(sh("sed -n 's/^MemTotal:[[:space:]]*\\([0-9]*\\).*/\\1/p' /proc/meminfo") or 0)
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(), "ram_gib": mem_kib / 2**20,
            "kernel": platform.release(), "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "load": sh("cut -d' ' -f1-3 /proc/loadavg"), "fs": sh("df -T . | awk 'NR==2 {print $2}'"),
            "sqlite": sh("sqlite3 --version | cut -d' ' -f1"), "wrk": sh("wrk --version 2>&1 | head -1 | cut -d' ' -f2")}


def mark_of(ok):
    return "met" if ok else "MISSED"


def rows(res):
    """(figure, value, ratio/target, verdict) per figure; a figure that failed says why."""
    out = []
    f = res.get("fig1")
    if isinstance(f, dict):
        out.append(("1. CPU per SCIM call, h2rd against wrk (no limit)",
                    f"h2rd {f['h2r_cpu_ms']:.3f} ms/call ({f['n']} hires, {f['h2r_calls']} calls); wrk GET+POST "
                    f"{f['wrk_cpu_ms']:.3f} ms/request (POST-only {f['wrk_create_cpu_ms']:.3f})",
                    f"{f['cpu_ratio']:.1f}x wrk's; target <= 3x",
                    mark_of(0 < f["cpu_ratio"] <= 3)))
        out.append(("1b. Provisioning throughput (no limit)",
                    f"h2r {f['h2r_rps']:.0f} req/s ({f['n']} hires, {f['h2r_calls']} calls); wrk POST-only "
                    f"{f['wrk_create_rps']:.0f} req/s; wrk GET+POST {f['wrk_mix_rps']:.0f} req/s",
                    f"{f['ratio']:.2f} of wrk (GET+POST: {f['ratio_mix']:.2f}); no target (tracked: it measures "
                    "zoom-sim as much as h2rd)", "-"))
    f = res.get("fig2")
    if isinstance(f, dict):
        out.append((f"2. Under rate limit R={f['R']}/s",
                    f"{f['achieved_rps']:.2f} req/s over {f['calls']} calls; {f['n429']} x 429 "
                    f"({100 * f['share429']:.2f}%)",
                    f"{f['ratio']:.3f} of R; target >= 0.95 and <= 0.5% 429",
                    mark_of(f["ratio"] >= 0.95 and f["share429"] <= 0.005)))
    f = res.get("fig3")
    if isinstance(f, dict):
        out.append((f"3. Ingest ({f['n']} events, {f['file_mib']:.1f} MiB ndjson)",
                    f"h2r {f['h2r_eps']:.0f} ev/s ({f['h2r_wall_s']:.2f} s, peak RSS {f['rss_kib'] / 1024:.0f} MiB); "
                    f"sqlite3 CLI {f['sqlite_eps']:.0f} rows/s ({f['sqlite_wall_s']:.2f} s)",
                    f"{f['ratio']:.2f} of sqlite3; target >= 0.5", mark_of(f["ratio"] >= 0.5)))
    f = res.get("fig4")
    if isinstance(f, dict):
        out.append(("4. CPU instructions per event (callgrind)",
                    f"ingest {f['ingest_per_event'] / 1e3:.0f} kIr + plan {f['plan_per_event'] / 1e3:.0f} kIr = "
                    f"{f['ingest_plan_per_event'] / 1e3:.0f} kIr/event; whole path incl. 2 SCIM calls "
                    f"{f['full_per_event'] / 1e6:.2f} MIr/event ({f['full_marginal'] / 1e6:.2f} MIr marginal, "
                    f"{f['small']} vs {f['large']} hires)",
                    f"marginal, {f['small']} vs {f['large']} events; no target (tracked)", "-"))
    f = res.get("fig5")
    if isinstance(f, dict):
        out.append((f"5. Peak RSS, {f['employees']} employees + {f['links']} links",
                    f"{f['rss_kib'] / 1024:.1f} MiB (h2rd run, DB {f['db_mib']:.0f} MiB, {f['updates']} updates pushed)",
                    f"{f['rss_kib'] / 1024 / 64:.2f} of 64 MiB; target < 64 MiB", mark_of(f["rss_kib"] < 64 * 1024)))
    f = res.get("fig6")
    if isinstance(f, dict):
        out.append((f"6. Drop-to-first-call latency ({f['files']} files)",
                    f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms (min {f['min_ms']:.1f}, max {f['max_ms']:.1f})",
                    "target p99 < 200 ms", mark_of(f["p99_ms"] < 200)))
    out += bench_conc.rows(res, mark_of)
    f = res.get("fig9")
    if isinstance(f, dict):
        ok = f["rss_kib"] < 64 * 1024 and f["ratio"] >= 0.5
        out.append((f"9. (d) Ingest in bounded memory ({f['n']} events, {f['file_mib']:.0f} MiB ndjson)",
                    f"h2r peak RSS {f['rss_kib'] / 1024:.1f} MiB, {f['h2r_eps']:.0f} ev/s ({f['h2r_wall_s']:.1f} s, "
                    f"DB {f['db_mib']:.0f} MiB); sqlite3 CLI {f['sqlite_eps']:.0f} rows/s ({f['sqlite_wall_s']:.1f} s, "
                    f"peak RSS {f['sqlite_rss_kib'] / 1024:.1f} MiB)",
                    f"{f['rss_kib'] / 1024 / 64:.2f} of 64 MiB, {f['ratio']:.2f} of sqlite3; "
                    "target < 64 MiB and >= 0.5", mark_of(ok)))
    out += bench_pg.rows(res, mark_of)   # figure 10, after 9
    out += bench_soak.rows(res, mark_of)
    for key in FIGURES:
        if isinstance(res.get(key), str):
            out.append((key, "NOT MEASURED: " + res[key], "", "ERROR"))
    return out


def markdown(res, m, command, smoke):
    lines = [f"Measured {m['date']} with `{command}`{' (smoke sizes)' if smoke else ''}.",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']:.1f} GiB RAM, Linux {m['kernel']}, "
             f"{m['fs']} disk, load average at start {m['load']}; sqlite {m['sqlite']}, wrk {m['wrk']}.", "",
             "| figure | measured | ratio / target | verdict |", "|---|---|---|---|"]
    for r in rows(res):
        lines.append("| " + " | ".join(x.replace("|", "/") for x in r) + " |")
    return "\n".join(lines) + "\n"


class Ctx:
    def __init__(self, args):
        self.smoke = args.smoke
        self.h2rd = os.path.abspath(args.h2rd)
        self.zoom_sim = os.path.abspath(args.zoom_sim)
        self.wrk = shutil.which("wrk")
        self.lua = os.path.join(HERE, "wrk_create.lua")
        self.work = args.workdir or tempfile.mkdtemp(prefix="h2r-bench.")
        self.sims = []
        self.sim = None
        self.fig1_env = None
        self.soak_minutes = args.soak_minutes

    def dir(self, name):
        path = os.path.join(self.work, name)
        os.makedirs(path, exist_ok=True)
        return path

    def file(self, name):
        return os.path.join(self.dir("files"), name)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--h2rd", required=True)
    p.add_argument("--zoom-sim", required=True)
    p.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    p.add_argument("--markdown", help="write the results table (markdown) here")
    p.add_argument("--json", help="write the raw results (JSON) here")
    p.add_argument("--workdir", help="scratch folder (default: a new temp folder, removed afterwards)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--only", help="figures to run, e.g. 1,5 (5 needs 1); default all but 13, which takes 90 minutes "
                   "(all at --smoke sizes)")
    p.add_argument("--soak-minutes", type=float, help="figure 13's length (default 90; 20 s at --smoke)")
    p.add_argument("--command", default="scripts/bench")
    p.add_argument("--size", action="append", default=[], metavar="NAME=N",
                   help="override a size, e.g. hires=5000 (names: " + ", ".join([*SIZES, *bench_conc.SIZES, *bench_pg.SIZES]) + ")")
    args = p.parse_args(argv)
    for tool in ("wrk", "valgrind", "sqlite3", "callgrind_annotate"):
        if not shutil.which(tool):
            print(f"bench: {tool} is missing (scripts/deps --bench installs wrk and valgrind)", file=sys.stderr)
            return 2
    for item in args.size:
        name, _, value = item.partition("=")
        table = SIZES if name in SIZES else bench_conc.SIZES if name in bench_conc.SIZES else bench_pg.SIZES
        if name not in table or not value.isdigit() or int(value) <= 0:
            p.error(f"--size {item}: expected NAME=N with NAME one of {', '.join([*SIZES, *bench_conc.SIZES, *bench_pg.SIZES])}")
        table[name] = (int(value), int(value))
    ctx = Ctx(args)
    if args.soak_minutes is not None and not args.soak_minutes > 0:
        p.error("--soak-minutes must be more than 0")
    default = [k for k in FIGURES if args.smoke or k not in LONG_FIGURES]
    only = {int(x) for x in (args.only or ",".join(k[3:] for k in default)).split(",") if x.strip()}
    m = machine()
    res = {}
    started = time.monotonic()
    try:
        os.chdir(ctx.work)
        ctx.sim = Sim(ctx.zoom_sim)
        ctx.sims.append(ctx.sim)
        steps = [(1, fig1_throughput), (5, fig5_rss), (6, fig6_latency), (2, fig2_rate_limited),
                 (3, fig3_ingest), (4, fig4_instructions), (7, fig7_one_connection), (8, fig8_many_connections),
                 (9, fig9_bulk_ingest), (10, fig10_daemons), (11, fig11_msp), (12, fig12_idle),
                 (14, fig14_msp_stretch), (13, fig13_soak)]
        for num, fn in steps:
            if num not in only:
                continue
            if num == 5 and not isinstance(res.get("fig1"), dict):
                res["fig5"] = "needs figure 1's provisioned state"
                continue
            t = time.monotonic()
            log(f"figure {num}: {fn.__doc__ or fn.__name__}")
            try:
                res[f"fig{num}"] = fn(ctx)
            except (BenchError, subprocess.SubprocessError, OSError, ValueError) as e:
                res[f"fig{num}"] = str(e)
            log(f"figure {num}: {time.monotonic() - t:.1f}s")
    finally:
        for sim in ctx.sims:
            sim.stop()
        os.chdir("/")
        if not args.keep and not args.workdir:
            shutil.rmtree(ctx.work, ignore_errors=True)
        elif args.keep:
            log(f"scratch kept in {ctx.work}")
    res["machine"] = m
    res["seconds"] = time.monotonic() - started
    width = max(len(r[0]) for r in rows(res)) if rows(res) else 10
    print(f"\nh2r benchmarks{' (smoke)' if args.smoke else ''} — {m['cpu']}, {m['cores']} cores, {m['date']}, "
          f"{res['seconds']:.0f} s")
    for r in rows(res):
        print(f"  {r[0]:<{width}}  {r[1]}\n  {'':<{width}}  -> {r[2]}  [{r[3]}]")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(res, m, args.command + (" --smoke" if args.smoke else ""), args.smoke))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    failed = [k for k in FIGURES
              if int(k[3:]) in only and not isinstance(res.get(k), dict)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

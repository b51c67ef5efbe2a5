"""Figure 10 of scripts/bench (issue 14): 1, 2 and 3 `h2rd run` daemons on one PostgreSQL database
against one daemon on SQLite, the same work each time: three Zoom accounts (one zoom-sim each) at
R requests/s with 150 ms latency, `hires` hires per account. Reported: each run's SCIM calls per
second as a ratio to the SQLite run, and the share of 429 answers (more daemons must not mean more
than each account allows: h2r paces every connection at R / live daemons).

Row 10b (issue 30): figure 11's service provider on PostgreSQL — 3 daemons share 100 connections at
R = 3/s each, 1,200 hires — with figure 11's bounds, threads, CPU per call and RSS taken per daemon.

Needs a PostgreSQL server named by PGHOST/PGPORT/PGUSER/PGPASSWORD: scripts/bench runs bench.py
inside `pg_virtualenv` when it is installed. bench.py imports this module and passes itself as `b`.
"""
import os
import random
import signal
import subprocess
import time

import bench_conc

SIZES = {
    #              full   smoke
    "pg_rate":    (40,    40),   # R of each of the three accounts
    "pg_hires":   (200,   20),   # hires per account
    "pg_sorted":  (0,     0),    # 1: the hires sorted by account instead of interleaved (--size pg_sorted=1)
    "pg_msp_accounts": (100, 6),  # 10b: connections shared by the daemons, one zoom-sim each
    "pg_msp_rate":     (3,   3),  # 10b: R of each
    "pg_msp_hires":    (12,  3),  # 10b: hires per account
    "pg_msp_daemons":  (3,   3),  # 10b: daemons on the one database
    "pg_msp_threads":  (0,   0),  # 10b: scheduler.threads of each daemon (0: the default)
}
ACCOUNTS = ["pga", "pgb", "pgc"]


def size(name, smoke):
    return SIZES[name][1 if smoke else 0]


def createdb(b):
    name = f"h2r_bench_{os.getpid()}_{random.randrange(1_000_000)}"
    code, _, err = b.run_child(["createdb", name], 60)
    if code != 0:
        raise b.BenchError(f"createdb failed: {err}")
    host, port, user = os.environ.get("PGHOST", "localhost"), os.environ.get("PGPORT", "5432"), os.environ["PGUSER"]
    return name, f"postgresql://{user}@{host}:{port}/{name}"


def run_daemons(b, env, daemons, expected_creates, sims, timeout, usage=None):
    """Starts `daemons` h2rd run processes on env's database (the first with env's inbox, the others
    with empty inboxes of their own); stops them all once every hire was created. Returns wall seconds.
    With `usage` (a list), each daemon's peak threads, CPU seconds and peak RSS KiB are appended to it."""
    configs = [env.config]
    text = open(env.config).read()
    for k in range(1, daemons):
        os.makedirs(os.path.join(env.root, f"inbox{k}"), exist_ok=True)
        path = os.path.join(env.root, f"h2rd{k}.yaml")
        with open(path, "w") as f:
            f.write(text.replace("inbox: inbox\n", f"inbox: inbox{k}\n"))
        configs.append(path)
    procs = []
    threads = {}
    start = time.monotonic()
    try:
        with open(env.log_path, "a") as err:
            for cfg in configs:
                procs.append(subprocess.Popen([env.h2rd, "-c", cfg, "run"], stdin=subprocess.DEVNULL,
                                              stdout=subprocess.DEVNULL, stderr=err))
        while sum(int(s.stats().get("creates_applied", 0)) for s in sims.values()) < expected_creates:
            if time.monotonic() - start > timeout:
                raise b.BenchError(f"{daemons} daemon(s) did not create {expected_creates} users in {timeout:.0f}s "
                                   f"(see {env.log_path})")
            if any(p.poll() is not None for p in procs):
                raise b.BenchError(f"an h2rd run exited early (see {env.log_path})")
            if usage is not None:
                for p in procs:
                    try:
                        threads[p.pid] = max(threads.get(p.pid, 0), bench_conc.proc_status(p.pid)[1])
                    except OSError:
                        pass
            time.sleep(0.1)
        return time.monotonic() - start
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            deadline = time.monotonic() + 20
            while True:
                pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
                if pid == p.pid:
                    p.returncode = os.waitstatus_to_exitcode(status)
                    if usage is not None:
                        usage.append({"threads": threads.get(p.pid, 0), "cpu_s": rusage.ru_utime + rusage.ru_stime,
                                      "rss_kib": rusage.ru_maxrss})
                    break
                if time.monotonic() > deadline:
                    p.kill()
                    p.wait()
                    break
                time.sleep(0.05)


def one_run(ctx, b, label, database, daemons, r, n):
    sims = {name: bench_conc.start_sim(ctx, b, r, 48) for name in ACCOUNTS}
    env = bench_conc.Env(b, ctx.h2rd, ctx.dir(f"fig10-{label}"), sims, r, database=database)
    # Hires of the three accounts interleaved, as an HR export mixes departments; with pg_sorted=1
    # sorted by account, which gives each daemon's claim mostly one account's events (see BENCHMARKS.md
    # on figure 10).
    per_account = [bench_conc.hires(b, name, n) for name in ACCOUNTS]
    if size("pg_sorted", ctx.smoke):
        env.drop([ev for batch in per_account for ev in batch], "hires.ndjson")
    else:
        env.drop([ev for batch in zip(*per_account) for ev in batch], "hires.ndjson")
    marks = {name: sim.mark() for name, sim in sims.items()}
    wall = run_daemons(b, env, daemons, len(ACCOUNTS) * n, sims, 120 + 6 * n / r)
    answered, n429, total = [], 0, 0
    for name, sim in sims.items():
        calls = sim.since(marks[name])
        total += len(calls)
        n429 += sum(1 for c in calls if c[3] == 429)
        answered += [c for c in calls if c[3] != 429]
        sim.stop()
        ctx.sims.remove(sim)
    answered.sort(key=lambda c: c[0])
    return {"daemons": daemons, "rps": b.rate_of(answered), "calls": total, "n429": n429,
            "share429": n429 / total if total else 0.0, "wall_s": wall}


def msp_run(ctx, b):
    """Row 10b: figure 11's 100 connections x R=3/s shared by 3 daemons on one PostgreSQL database."""
    accounts, r = size("pg_msp_accounts", ctx.smoke), size("pg_msp_rate", ctx.smoke)
    n, daemons = size("pg_msp_hires", ctx.smoke), size("pg_msp_daemons", ctx.smoke)
    names = [f"m{i:03d}" for i in range(1, accounts + 1)]
    sims = {name: bench_conc.start_sim(ctx, b, r, 24) for name in names}
    name, url = createdb(b)
    try:
        threads = size("pg_msp_threads", ctx.smoke)
        env = bench_conc.Env(b, ctx.h2rd, ctx.dir("fig10-msp"), sims, r, database=url,
                             extra_config=f"scheduler: {{ threads: {threads} }}\n" if threads else "")
        env.drop([ev for account in names for ev in bench_conc.hires(b, account, n)], "hires.ndjson")
        marks = {k: sim.mark() for k, sim in sims.items()}
        usage = []
        wall = run_daemons(b, env, daemons, accounts * n, sims, 120 + 6 * n / r, usage)
    finally:
        b.run_child(["dropdb", "--if-exists", "--force", name], 60)
    per, everything, n429 = {}, [], 0
    for k, sim in sims.items():
        calls = sim.since(marks[k])
        n429 += sum(1 for c in calls if c[3] == 429)
        answered = [c for c in calls if c[3] != 429]
        per[k] = b.rate_of(answered) / r
        everything += answered
        sim.stop()
        ctx.sims.remove(sim)
    everything.sort(key=lambda c: c[0])
    aggregate = b.rate_of(everything)
    worst = min(per, key=per.get)
    return {"accounts": accounts, "R": r, "n": n, "daemons": daemons, "aggregate_rps": aggregate,
            "ratio": aggregate / (accounts * r), "worst": worst, "worst_ratio": per[worst], "calls": len(everything),
            "n429": n429, "wall_s": wall, "threads": max(u["threads"] for u in usage),
            "cpu_s": sum(u["cpu_s"] for u in usage), "rss_kib": max(u["rss_kib"] for u in usage)}


def fig10_daemons(ctx, b):
    """1, 2 and 3 daemons on PostgreSQL against one on SQLite (bench_pg.py)"""
    if not os.environ.get("PGUSER"):
        raise b.BenchError("no PostgreSQL server (PGUSER unset): scripts/bench runs this inside pg_virtualenv")
    r, n = size("pg_rate", ctx.smoke), size("pg_hires", ctx.smoke)
    out = {"R": r, "n": n, "accounts": len(ACCOUNTS), "sorted": bool(size("pg_sorted", ctx.smoke)), "runs": {}}
    out["runs"]["sqlite"] = one_run(ctx, b, "sqlite", "h2r.db", 1, r, n)
    for daemons in (1, 2, 3):
        name, url = createdb(b)
        try:
            out["runs"][f"pg{daemons}"] = one_run(ctx, b, f"pg{daemons}", url, daemons, r, n)
        finally:
            b.run_child(["dropdb", "--if-exists", "--force", name], 60)
    try:
        out["msp"] = msp_run(ctx, b)
    except b.BenchError as e:
        out["msp"] = str(e)
    base = out["runs"]["sqlite"]["rps"] or 1.0
    for run in out["runs"].values():
        run["ratio"] = run["rps"] / base
    return out


def rows(res, mark_of):
    f = res.get("fig10")
    if not isinstance(f, dict):
        return []
    runs = f["runs"]
    detail = "; ".join(f"{k}: {v['rps']:.1f} req/s, {v['n429']} x 429 ({100 * v['share429']:.2f}%)"
                       for k, v in runs.items())
    worst = min(runs[k]["ratio"] for k in ("pg1", "pg2", "pg3"))
    share = max(runs[k]["share429"] for k in ("pg1", "pg2", "pg3"))
    return [(f"10. 1/2/3 daemons on PostgreSQL vs 1 on SQLite, {f['accounts']} accounts x R={f['R']}/s at "
             f"{bench_conc.LATENCY_MS} ms, {f['n']} hires each" + (" (sorted by account)" if f.get("sorted") else ""),
             detail,
             "ratio to SQLite " + ", ".join(f"{k} {runs[k]['ratio']:.3f}" for k in ("pg1", "pg2", "pg3")) +
             "; target >= 0.9 each, 429 share <= 0.5%",
             mark_of(worst >= 0.9 and share <= 0.005))] + msp_rows(f, mark_of)


def msp_rows(f, mark_of):
    m = f.get("msp")
    label = "10b. 3 daemons on PostgreSQL share figure 11's connections"
    if isinstance(m, str):
        return [(label, "NOT MEASURED: " + m, "", "ERROR")]
    if not isinstance(m, dict):
        return []
    ms_per_call = 1000 * m["cpu_s"] / max(1, m["calls"])
    share429 = m["n429"] / max(1, m["calls"] + m["n429"])
    return [(f"10b. {m['daemons']} daemons on PostgreSQL share {m['accounts']} connections x R={m['R']}/s at "
             f"{bench_conc.LATENCY_MS} ms ({m['accounts'] * m['n']} hires)",
             f"{m['aggregate_rps']:.1f} req/s in all over {m['calls']} calls; lowest account {m['worst']} at "
             f"{m['worst_ratio']:.3f} of its R; {m['n429']} x 429 ({100 * share429:.2f}%); each daemon {m['threads']} "
             f"threads at most and {m['rss_kib'] / 1024:.0f} MiB peak RSS at most; CPU {ms_per_call:.2f} ms/call (all daemons)",
             f"{m['ratio']:.3f} of {m['accounts'] * m['R']}/s; targets >= 0.95, each >= 0.9, <= 0.5% 429, threads <= 64, "
             "<= 0.15 ms/call, < 128 MiB",
             mark_of(m["ratio"] >= 0.95 and m["worst_ratio"] >= 0.9 and share429 <= 0.005 and m["threads"] <= 64
                     and ms_per_call <= 0.15 and m["rss_kib"] < 128 * 1024))]

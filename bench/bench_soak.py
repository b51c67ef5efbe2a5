"""Figure 13 of scripts/bench (issue 30): steady memory. One `h2r run` daemon takes a steady mixed load
for a long time — a file every 5 s of hires, updates, terminations and rehires, about 4 events/s —
against one zoom-sim, while its resident memory is read from /proc every 5 s. The database grows all
along (employees, links, the event history), so a page cache without a bound grows with it.

Reported: RSS after the warm-up (the first tenth), the most over the last third (the last 30 minutes
of the full 90), and how much it grew over that last third. Target: under 64 MiB and flat (grown by
less than 2 MiB). Not in the default set of figures (it takes 90 minutes): `scripts/bench --only 13`;
`--soak-minutes M` shortens it; `--smoke` runs it for 20 s.

bench.py imports this module and passes itself as `b` (H2r, Sim, gen_events, ...).
"""
import json
import os
import random
import time

FILE_EVERY_S = 5
PER_FILE = {"hire": 8, "update": 8, "terminate": 2, "rehire": 2}   # 20 events per 5 s: 4 events/s
SAMPLE_EVERY_S = 5

RULES_EXTRA = "  guard: { max: 1000000, per: 1h }\n"   # under lifecycle: the soak's terminations are no bad export


def minutes(ctx):
    return ctx.soak_minutes if ctx.soak_minutes else (20 / 60 if ctx.smoke else 90)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Load:
    """The employees' states, and the next file of the mix."""

    def __init__(self, b):
        self.b = b
        self.rand = random.Random(13)
        self.next_id = 1
        self.active = []
        self.gone = []
        self.seq = 0

    def _event(self, kind, i):
        self.seq += 1
        emp = self.b.gen_events.employee("S", i, f" {self.seq}" if kind == "update" else "")
        return {"event_id": f"soak-{self.seq}", "type": kind, "employee": emp}

    def file(self):
        out = []
        for _ in range(PER_FILE["hire"]):
            out.append(self._event("hire", self.next_id))
            self.active.append(self.next_id)
            self.next_id += 1
        for _ in range(PER_FILE["update"]):
            if self.active:
                out.append(self._event("update", self.rand.choice(self.active)))
        for _ in range(PER_FILE["terminate"]):
            if len(self.active) > 10:
                i = self.active.pop(self.rand.randrange(len(self.active) - 8))   # not those hired in this file
                out.append(self._event("terminate", i))
                self.gone.append(i)
        for _ in range(PER_FILE["rehire"]):
            if len(self.gone) > 10:
                i = self.gone.pop(self.rand.randrange(len(self.gone) - 2))       # not those let go in this file
                out.append(self._event("rehire", i))
                self.active.append(i)
        return out


def fig13_soak(ctx, b):
    total_s = minutes(ctx) * 60
    sim = b.Sim(ctx.zoom_sim, ["--rate-limit", "1000"])
    ctx.sims.append(sim)
    h2r = b.H2r(ctx.h2rd, ctx.dir("fig13"), sim.url, rate_limit=100, interval="5s", extra_config="")
    with open(os.path.join(h2r.root, "rules.yaml"), "a") as f:
        f.write(RULES_EXTRA)
    proc = h2r.start_daemon()
    load = Load(b)
    samples = []   # (seconds since start, RSS KiB)
    events = 0
    start = time.monotonic()
    next_file = next_sample = start
    try:
        while time.monotonic() - start < total_s:
            now = time.monotonic()
            if now >= next_file:
                batch = load.file()
                path = ctx.file(f"soak-{load.seq}.ndjson")
                with open(path, "w", encoding="utf-8") as f:
                    for ev in batch:
                        f.write(json.dumps(ev, separators=(",", ":")) + "\n")
                h2r.drop(path, f"soak-{load.seq}.ndjson")
                os.unlink(path)
                events += len(batch)
                next_file += FILE_EVERY_S
            if now >= next_sample:
                if proc.poll() is not None:
                    raise b.BenchError(f"h2rd run exited during the soak (see {h2r.log_path})")
                samples.append((now - start, rss_kib(proc.pid)))
                next_sample += SAMPLE_EVERY_S
            time.sleep(max(0.0, min(next_file, next_sample) - time.monotonic()))
        samples.append((time.monotonic() - start, rss_kib(proc.pid)))
    finally:
        peak = h2r.stop_daemon(proc)
    done = int(h2r.sql("SELECT count(*) FROM events WHERE state = 'done'") or 0)
    warm = [kib for t, kib in samples if t >= total_s / 10]
    last = [kib for t, kib in samples if t >= total_s * 2 / 3]
    if not warm or not last:
        raise b.BenchError("too few RSS samples")
    return {"minutes": minutes(ctx), "events": events, "done": done, "warm_kib": warm[0], "last_max_kib": max(last),
            "last_growth_kib": last[-1] - last[0], "peak_kib": peak, "samples": len(samples),
            "db_mib": os.path.getsize(h2r.db()) / 2**20, "last_minutes": minutes(ctx) / 3}


def rows(res, mark_of):
    f = res.get("fig13")
    if not isinstance(f, dict):
        return []
    ok = f["last_max_kib"] < 64 * 1024 and f["last_growth_kib"] < 2 * 1024
    return [(f"13. Steady memory: {f['minutes']:.3g} min at ~4 events/s (hires, updates, terminations, rehires)",
             f"RSS {f['warm_kib'] / 1024:.1f} MiB after warm-up; over the last {f['last_minutes']:.3g} min at most "
             f"{f['last_max_kib'] / 1024:.1f} MiB, grown {f['last_growth_kib'] / 1024:+.1f} MiB; {f['events']} events "
             f"({f['done']} done), DB {f['db_mib']:.0f} MiB",
             f"{f['last_max_kib'] / 1024 / 64:.2f} of 64 MiB; target < 64 MiB and flat (< 2 MiB growth)",
             mark_of(ok))]

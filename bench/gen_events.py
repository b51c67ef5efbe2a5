#!/usr/bin/env python3
"""Event-file and SQL generators for scripts/bench (also usable alone).

  gen_events.py events N OUT.ndjson [--prefix P] [--effective DATE] [--type hire|update]
  gen_events.py sql N OUT.sql --schema SCHEMA.sql [--prefix P] [--effective DATE]

`events` writes N HR events (one per line) for employees P000001..; `sql` writes the same rows as one
plain-SQL bulk insert (one transaction, WAL, synchronous=NORMAL, like h2r's store) for the sqlite3 CLI
baseline of the ingest benchmark.
"""
import argparse
import json
import sys

DEPARTMENTS = ["Engineering", "Product", "Sales", "Support", "Finance", "People", "Legal", "Marketing"]
TITLES = ["Engineer", "Manager", "Analyst", "Specialist", "Director", "Associate"]
LOCATIONS = ["NYC", "SFO", "LON", "PAR", "BER", "TYO"]


def employee(prefix, i, title_suffix=""):
    eid = f"{prefix}{i:06d}"
    first = f"First{i}"
    last = f"Last{prefix}{i}"
    return {
        "employee_id": eid,
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}@bench.example.com".lower(),
        "department": DEPARTMENTS[i % len(DEPARTMENTS)],
        "job_title": TITLES[i % len(TITLES)] + title_suffix,
        "location": LOCATIONS[i % len(LOCATIONS)],
        "employment_type": "full_time",
        "manager_email": f"boss{i % 97}@bench.example.com",
        "cost_center": f"CC-{i % 50:02d}",
    }


def event(prefix, i, kind="hire", effective=None, event_prefix="evt"):
    emp = employee(prefix, i, " II" if kind == "update" else "")
    ev = {"event_id": f"{event_prefix}-{prefix}-{kind}-{i}", "type": kind, "employee": emp}
    if effective:
        ev["effective_date"] = effective
    return ev


def write_events(path, n, prefix, effective, kind, start=1, event_prefix="evt"):
    with open(path, "w", encoding="utf-8") as out:
        for i in range(start, start + n):
            out.write(json.dumps(event(prefix, i, kind, effective, event_prefix), separators=(",", ":")))
            out.write("\n")


def sql_text(value):
    return "'" + value.replace("'", "''") + "'"


def write_sql(path, n, prefix, effective, schema_path, source_file="bench.ndjson"):
    """The rows h2r's ingest writes for `write_events(...)`, as one INSERT per row in one transaction."""
    with open(schema_path, encoding="utf-8") as f:
        schema = f.read()
    effective_ms = 4070908800000  # 2099-01-01T00:00:00Z
    now_ms = 1767225600000
    with open(path, "w", encoding="utf-8") as out:
        out.write("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n")
        out.write(schema.rstrip() + "\n")
        out.write("BEGIN;\n")
        for i in range(1, n + 1):
            ev = event(prefix, i, "hire", effective)
            fields = {k: v for k, v in ev["employee"].items() if k != "employee_id"}
            out.write(
                "INSERT INTO events (event_id, type, leave_type, employee_id, fields, effective_raw, effective_at_ms, "
                "due_at_ms, source_file, state, reason, attempts, approved, rules_version, result, received_at_ms, "
                "updated_at_ms) VALUES ("
                f"{sql_text(ev['event_id'])}, 'hire', NULL, {sql_text(ev['employee']['employee_id'])}, "
                f"{sql_text(json.dumps(fields, sort_keys=True, separators=(',', ':')))}, {sql_text(effective or '')}, "
                f"{effective_ms}, {effective_ms}, {sql_text(source_file)}, 'waiting', '', 0, 0, '', '', {now_ms}, "
                f"{now_ms}) ON CONFLICT (event_id) DO NOTHING;\n")
        out.write("COMMIT;\n")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["events", "sql"])
    p.add_argument("n", type=int)
    p.add_argument("out")
    p.add_argument("--prefix", default="E")
    p.add_argument("--effective", default=None)
    p.add_argument("--type", default="hire", choices=["hire", "update"])
    p.add_argument("--schema")
    a = p.parse_args(argv)
    if a.what == "events":
        write_events(a.out, a.n, a.prefix, a.effective, a.type)
    else:
        if not a.schema:
            p.error("sql needs --schema")
        write_sql(a.out, a.n, a.prefix, a.effective, a.schema)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Client creation through the real services: `client_create` one at a time and
the CSV import (`clients_import`), on SQLite and optionally PostgreSQL.

Written to measure what Wagtail's reference index costs on every ORM save of
our (non-content) models, A/B: `--compare DIR` runs the same measurements on
the code in DIR (e.g. a worktree of main) and on this checkout, interleaved
(A, B, A, B, ...), each repeat in a fresh process on its own database, and
reports medians and min-max. Prints a table and writes
bench/results/clients_import.json.

    .venv/bin/python bench/clients_import.py --compare /tmp/main-worktree [--repeats 3]
    .venv/bin/python bench/clients_import.py --postgres ...   # also PostgreSQL (mailsite_bench_clients_*)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = os.environ.get("BENCH_PG_BASE", "postgres://postgres@127.0.0.1:5432")


def child(args) -> None:
    """One repeat, in the code under `args.root`, printing a JSON line."""
    sys.path.insert(0, args.root)
    os.chdir(args.root)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = ""
    os.environ["DJANGO_DEBUG"] = "true"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "mailsite.settings"
    import io

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from wagtail.models import ReferenceIndex

    call_command("migrate", "--noinput", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from accounts.models import User
    from mailings.models import Client
    from mailings.services.clients import client_create, clients_import

    tag = f"{os.getpid()}-{time.time_ns()}"
    one_owner = User.objects.create_user(email=f"one-{tag}@bench.test", password=None)
    started = time.perf_counter()
    for n in range(args.creates):
        client_create(owner=one_owner, email=f"c{n}@example.org", full_name=f"Client {n}")
    create_s = time.perf_counter() - started

    csv_owner = User.objects.create_user(email=f"csv-{tag}@bench.test", password=None)
    body = "email,full_name,comment\n" + "".join(f"r{n}@example.org,Row {n},bench\n" for n in range(args.rows))
    started = time.perf_counter()
    report = clients_import(owner=csv_owner, file=io.BytesIO(body.encode()))
    import_s = time.perf_counter() - started
    assert report.created == args.rows, report

    refs = ReferenceIndex.objects.filter(
        base_content_type__app_label="mailings", base_content_type__model="client"
    ).count()
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "creates": args.creates,
                "create_per_s": round(args.creates / create_s, 1),
                "create_ms": round(1000 * create_s / args.creates, 3),
                "rows": args.rows,
                "import_s": round(import_s, 3),
                "import_rows_per_s": round(args.rows / import_s, 1),
                "reference_index_rows_for_clients": refs,
                "clients": Client.objects.count(),
            }
        )
    )


def run_child(root: str, database_url: str, args) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--root",
        root,
        "--database-url",
        database_url,
        "--creates",
        str(args.creates),
        "--rows",
        str(args.rows),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_postgres(name: str) -> str:
    host = "127.0.0.1"
    subprocess.run(["dropdb", "-h", host, "-U", "postgres", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-h", host, "-U", "postgres", name], check=True)
    return f"{PG_BASE}/{name}"


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--compare", default="", help="another checkout to measure as A (this one is B)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    variants = {"A (" + args.compare + ")": args.compare} if args.compare else {}
    variants["B (this checkout)"] = str(ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="mailsite-bench-clients-"))
    databases = ["sqlite", "postgresql"] if args.postgres else ["sqlite"]
    results: dict = {}
    load = [os.getloadavg()]
    for db in databases:
        urls = {}
        for i, name in enumerate(variants):
            urls[name] = (
                f"sqlite:///{tmp / f'{db}-{i}.sqlite3'}"
                if db == "sqlite"
                else fresh_postgres(f"mailsite_bench_clients_{i}")
            )
        for _repeat in range(args.repeats):
            for name, root in variants.items():  # interleaved: A, B, A, B, ...
                row = run_child(root, urls[name], args)
                results.setdefault(db, {}).setdefault(name, []).append(row)
                load.append(os.getloadavg())

    report = {"repeats": args.repeats, "creates": args.creates, "rows": args.rows, "load": load, "results": {}}
    print(f"\n{args.repeats} repeats, medians (min-max); load average at start {load[0]}, end {load[-1]}\n")
    header = f"{'database':<11} {'code':<28} {'client_create/s':>24} {'CSV import s':>24} {'ref rows':>9}"
    print(header)
    print("-" * len(header))
    for db, by_variant in results.items():
        for name, rows in by_variant.items():
            create = summary([r["create_per_s"] for r in rows])
            imp = summary([r["import_s"] for r in rows])
            report["results"].setdefault(db, {})[name] = {"client_create_per_s": create, "import_s": imp, "runs": rows}
            create_text = f"{create['median']} ({create['min']}-{create['max']})"
            import_text = f"{imp['median']} ({imp['min']}-{imp['max']})"
            refs = rows[-1]["reference_index_rows_for_clients"]
            print(f"{db:<11} {name[-28:]:<28} {create_text:>24} {import_text:>24} {refs:>9}")
    out = ROOT / "bench" / "results" / "clients_import.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

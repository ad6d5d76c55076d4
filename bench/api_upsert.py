"""Bulk upsert of 100,000 clients through the API, in requests of 10,000,
against the CSV import of the same clients (the import page's service).

Both run in-process on a throwaway SQLite database (as `make run` uses); the
API requests go through the whole Django and DRF stack (Bearer token lookup,
throttle, JSON parsing, row checks) with Django's test Client, so no socket
time is counted on either side. Each side starts from an empty client list
of its own customer, after one small warm-up run of each. Pass DATABASE_URL to measure PostgreSQL.
Prints a table and writes bench/results/api_upsert.json.

    .venv/bin/python bench/api_upsert.py [--clients 100000] [--batch 10000]
"""

import argparse
import io
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="mailsite-bench-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP / 'bench.sqlite3'}")
os.environ.setdefault("REDIS_URL", "")
os.environ["MEDIA_ROOT"] = str(TMP / "media")
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["API_THROTTLE_RATE"] = "100000/min"
os.environ["API_BULK_THROTTLE_RATE"] = "100000/min"
# Production posture (no SQL query log), over plain HTTP inside the process.
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ["DJANGO_SETTINGS_MODULE"] = "mailsite.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts import services as account_services  # noqa: E402
from accounts.models import User  # noqa: E402
from mailings import selectors, services  # noqa: E402
from mailings.imports import OnExisting  # noqa: E402


def rows(n):
    return [
        {"email": f"client{i}@example.org", "full_name": f"Client Number {i}", "comment": "from the CRM"}
        for i in range(n)
    ]


def csv_bytes(data):
    lines = ["email,full_name,comment"] + [f"{r['email']},{r['full_name']},{r['comment']}" for r in data]
    return ("\n".join(lines) + "\n").encode()


def time_csv(owner, data):
    payload = csv_bytes(data)
    start = time.perf_counter()
    report = services.clients_import(owner=owner, file=io.BytesIO(payload), on_existing=OnExisting.UPDATE)
    elapsed = time.perf_counter() - start
    assert report.created == len(data), report
    return elapsed


def time_api(owner, data, batch):
    secret = account_services.api_token_create(user=owner, name="bench").secret
    web = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    bodies = [json.dumps({"clients": data[i : i + batch]}) for i in range(0, len(data), batch)]
    start = time.perf_counter()
    created = 0
    for body in bodies:
        response = web.post("/api/v1/clients/bulk/", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        created += response.json()["created"]
    elapsed = time.perf_counter() - start
    assert created == len(data), created
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    data = rows(args.clients)
    csv_owner = User.objects.create_user(email="csv@bench.test", password="x", is_verified=True)
    api_owner = User.objects.create_user(email="api@bench.test", password="x", is_verified=True)

    # Warm both paths (imports, URL resolver, first queries) on a throwaway customer.
    warm = User.objects.create_user(email="warm@bench.test", password="x", is_verified=True)
    time_csv(warm, rows(10))
    warm.clients.all().delete()
    time_api(warm, rows(10), args.batch)

    csv_seconds = time_csv(csv_owner, data)
    api_seconds = time_api(api_owner, data, args.batch)
    assert selectors.owned_clients(api_owner).count() == args.clients
    ratio = api_seconds / csv_seconds

    print(f"\n{connection.vendor}, {args.clients:,} clients, API requests of {args.batch:,}\n")
    header = f"{'path':<28}{'seconds':>10}{'clients/s':>12}"
    print(header)
    print("-" * len(header))
    for name, seconds in (("CSV import (one file)", csv_seconds), ("API bulk upsert", api_seconds)):
        print(f"{name:<28}{seconds:>10.2f}{args.clients / seconds:>12,.0f}")
    print(f"\nAPI / import: {ratio:.2f}x (target: at most 1.5x)")
    out = ROOT / "bench" / "results" / ("api_upsert.json" if connection.vendor == "sqlite" else "api_upsert-pg.json")
    out.write_text(
        json.dumps(
            {
                "database": connection.vendor,
                "clients": args.clients,
                "batch": args.batch,
                "csv_import_seconds": round(csv_seconds, 3),
                "api_seconds": round(api_seconds, 3),
                "api_over_import": round(ratio, 3),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

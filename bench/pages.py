"""Requests per second and SQL queries per request for the home page and an
article, with a cold and a warm cache.

Runs in-process with Django's test Client against a throwaway SQLite database
(the database cache, as `make run` uses) filled by `load_demo` plus 300
mailings with 1,500 clients. Pass REDIS_URL / DATABASE_URL to measure another
set-up. Prints a table and writes bench/results/pages.json.

    .venv/bin/python bench/pages.py [--requests 200]
"""

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="mailsite-bench-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP / 'bench.sqlite3'}")
os.environ.setdefault("REDIS_URL", "")
# As measured before DEBUG became off by default: development settings, the same for every run.
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ["MEDIA_ROOT"] = str(TMP / "media")
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["DJANGO_SETTINGS_MODULE"] = "mailsite.settings"

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

MAILINGS = 300
CLIENTS_PER_MAILING = 5


def build_database():
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from mailings.models import Client as MailingClient
    from mailings.models import Mailing, MailingStatus, Message

    call_command("migrate", "--noinput", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    owner, _ = User.objects.get_or_create(email="bench@mailsite.test")
    message = Message.objects.create(owner=owner, subject="Bench", body="Hello")
    clients = MailingClient.objects.bulk_create(
        MailingClient(owner=owner, email=f"client{n}@example.org") for n in range(MAILINGS * CLIENTS_PER_MAILING)
    )
    now = timezone.now()
    statuses = [MailingStatus.CREATED, MailingStatus.RUNNING, MailingStatus.COMPLETED]
    mailings = Mailing.objects.bulk_create(
        Mailing(
            owner=owner,
            message=message,
            start_at=now,
            end_at=now + timedelta(days=30),
            status=statuses[n % 3],
        )
        for n in range(MAILINGS)
    )
    through = Mailing.clients.through
    through.objects.bulk_create(
        through(mailing_id=m.id, client_id=clients[i * CLIENTS_PER_MAILING + k].id)
        for i, m in enumerate(mailings)
        for k in range(CLIENTS_PER_MAILING)
    )


def measure(client, url, *, warm: bool, requests: int) -> dict:
    def one():
        if not warm:
            cache.clear()
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        return elapsed

    if warm:
        for _ in range(20):
            client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        one()
    queries = len(ctx.captured_queries)
    # The database cache answers in SQL too; its statements (and the SQLite transactions of its writes) apart.
    cache_queries = sum(
        "mailsite_cache" in q["sql"] or q["sql"].startswith(("BEGIN", "COMMIT")) for q in ctx.captured_queries
    )
    total = sum(one() for _ in range(requests))
    return {
        "rps": round(requests / total, 1),
        "ms_per_request": round(1000 * total / requests, 2),
        "queries": queries,
        "queries_without_cache_table": queries - cache_queries,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    build_database()
    from blog.models import BlogPage

    article_url = BlogPage.objects.live().order_by("id").first().url
    client = Client()
    client.get("/blog/")  # renditions are made once, as on a real site
    results = []
    with override_settings(DEBUG=False):
        for name, url in (("home page", "/"), ("article", article_url)):
            for warm in (False, True):
                row = {"page": name, "url": url, "cache": "warm" if warm else "cold"}
                row.update(measure(client, url, warm=warm, requests=args.requests))
                results.append(row)

    backend = "redis" if os.environ.get("REDIS_URL") else "database cache table"
    print(f"\n{connection.vendor}, cache: {backend}, {args.requests} requests each, one process\n")
    header = f"{'page':<10} {'cache':<6} {'req/s':>8} {'ms/req':>8} {'queries':>8} {'(no cache table)':>17}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['page']:<10} {r['cache']:<6} {r['rps']:>8} {r['ms_per_request']:>8} "
            f"{r['queries']:>8} {r['queries_without_cache_table']:>17}"
        )
    out = ROOT / "bench" / "results" / ("pages-redis.json" if os.environ.get("REDIS_URL") else "pages.json")
    out.write_text(
        json.dumps(
            {
                "database": connection.vendor,
                "cache": backend,
                "requests": args.requests,
                "mailings": MAILINGS,
                "clients": MAILINGS * CLIENTS_PER_MAILING,
                "articles": BlogPage.objects.live().count(),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

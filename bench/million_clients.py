"""A run of a million recipients on PostgreSQL: snapshot time, send rate, worker memory.

    DATABASE_URL=postgres://... python bench/million_clients.py [--clients 1000000] [--send 100000] [--all]

Generates the clients in the database itself (one INSERT ... SELECT over
generate_series: no factories, no Python loop), puts them all on a mailing,
and starts its run: the recipient snapshot (Delivery rows) and the
suppression pass are what is timed. Then one worker process sends `--send`
messages of that run (the whole run with --all) to a local aiosmtpd sink
that offers PIPELINING, and reports messages per second and its peak RSS
(VmHWM). The same is done first for a 10,000-client run, sent in full; the
table gives the million-client figures against it (targets: snapshot < 30 s,
rate >= 0.9x, peak RSS <= 1.25x). Writes bench/results/million_clients.json.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from sendbench.sink import Sink  # bench/, this script's folder

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results" / "million_clients.json"
sys.path.insert(0, str(BASE_DIR))


def setup_django(port):
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mailsite.settings",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "AXES_ENABLED": "false",
            "DJANGO_DEBUG": "false",
        }
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ.pop("EMAIL_URL", None)
    import django

    django.setup()


def peak_rss_kb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def worker(run_id, limit):
    """Send chunks of the run until `limit` messages went out (0: the whole run)."""
    from mailings.engine import send_chunk

    sent = 0
    started = time.perf_counter()
    while not limit or sent < limit:
        result = send_chunk(run_id)
        sent += result.sent
        if not result.claimed:
            break
    elapsed = time.perf_counter() - started
    print(json.dumps({"sent": sent, "seconds": elapsed, "peak_rss_kb": peak_rss_kb()}), flush=True)


def clean_up(email):
    """The previous run's data, big tables first with plain DELETEs: the
    ORM's cascade would load a million rows into this process."""
    from django.db import connection

    from accounts.models import User
    from mailings.models import Attempt, Client, Delivery, Mailing, Run

    runs = Run.objects.filter(mailing__owner__email=email)
    for qs in (
        Delivery.objects.filter(run__in=runs),
        Attempt.objects.filter(run__in=runs),
        Mailing.clients.through.objects.filter(mailing__owner__email=email),
    ):
        qs._raw_delete(connection.alias)
    Mailing.objects.filter(owner__email=email).delete()
    Client.objects.filter(owner__email=email)._raw_delete(connection.alias)
    User.objects.filter(email=email).delete()


def make_run(n):
    """n clients of a new owner, all on one mailing; the run started (timed)."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from mailings.engine import start_due_run
    from mailings.models import Client, Mailing, Message

    email = f"million-{n}@example.org"
    clean_up(email)
    owner = User.objects.create_user(email=email, password="bench-password-123")
    qn = connection.ops.quote_name
    client, through = Client._meta, Mailing.clients.through._meta
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(client.db_table)} (owner_id, email, full_name, comment, unsubscribe_source, "
            "hard_bounces, bounce_reply, created_at, updated_at) "
            "SELECT %s, 'client' || lpad(i::text, 7, '0') || '@example.org', 'Client ' || i, '', '', 0, '', "
            "now(), now() FROM generate_series(0, %s - 1) AS i",
            [owner.pk, n],
        )
    generated = time.perf_counter() - started
    message = Message.objects.create(owner=owner, subject="News", body="Hello,\n\n" + "News. " * 80, body_format="text")
    now = timezone.now()
    mailing = Mailing.objects.create(
        owner=owner,
        message=message,
        start_at=now - timedelta(minutes=1),
        end_at=now + timedelta(days=1),
        next_run_at=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(through.db_table)} (mailing_id, client_id) "
            f"SELECT %s, id FROM {qn(client.db_table)} WHERE owner_id = %s",
            [mailing.pk, owner.pk],
        )
        # As autovacuum would have done by the time such a list is mailed.
        cursor.execute(f"ANALYZE {qn(client.db_table)}; ANALYZE {qn(through.db_table)}")
    started = time.perf_counter()
    run = start_due_run(mailing.pk, enqueue=False)
    snapshot = time.perf_counter() - started
    assert run.recipients_count == n, run.recipients_count
    return run, generated, snapshot


def measure(n, limit, port):
    run, generated, snapshot = make_run(n)
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", str(run.pk), "--limit", str(limit), "--port", str(port)],
        capture_output=True,
        text=True,
        check=True,
        timeout=24 * 3600,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "clients": n,
        "generate_seconds": round(generated, 2),
        "snapshot_seconds": round(snapshot, 2),
        "sent": report["sent"],
        "seconds": round(report["seconds"], 2),
        "msgs_per_s": round(report["sent"] / report["seconds"], 1),
        "peak_rss_mb": round(report["peak_rss_kb"] / 1024, 1),
    }


def main():
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL=postgres://... (this benchmark is for PostgreSQL)")
    sink = Sink("aiosmtpd")
    try:
        setup_django(sink.port)
        if connection.vendor != "postgresql":
            sys.exit("this benchmark needs PostgreSQL")
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        base = measure(ARGS.base, 0, sink.port)
        big = measure(ARGS.clients, 0 if ARGS.all else ARGS.send, sink.port)
    finally:
        sink.stop()
    ratios = {
        "rate": round(big["msgs_per_s"] / base["msgs_per_s"], 2),
        "peak_rss": round(big["peak_rss_mb"] / base["peak_rss_mb"], 2),
    }
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "synchronous_commit": "off" if settings.MAILINGS_ASYNC_COMMIT else "on",
        "base": base,
        "big": big,
        "ratios": ratios,
        "targets": {"snapshot_seconds": 30, "rate": 0.9, "peak_rss": 1.25},
    }
    print(f"\nOne worker, PostgreSQL, local aiosmtpd sink; load {results['load_average']}\n")
    print(f"{'clients':>9} {'generate s':>11} {'snapshot s':>11} {'sent':>8} {'msgs/s':>8} {'peak RSS':>9}")
    for row in (base, big):
        print(
            f"{row['clients']:>9} {row['generate_seconds']:>11.1f} {row['snapshot_seconds']:>11.1f} "
            f"{row['sent']:>8} {row['msgs_per_s']:>8.0f} {row['peak_rss_mb']:>6.0f} MB"
        )
    print(f"\nrate {ratios['rate']}x (target >= 0.9), peak RSS {ratios['peak_rss']}x (target <= 1.25)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--send", type=int, default=100_000, help="messages to send from the big run")
    parser.add_argument("--all", action="store_true", help="send the whole big run")
    parser.add_argument("--base", type=int, default=10_000, help="clients of the run compared against")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ARGS = parser.parse_args()
    if ARGS.worker:
        setup_django(ARGS.port)
        worker(ARGS.worker, ARGS.limit)
    else:
        main()

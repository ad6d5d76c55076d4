"""How fast Mailsite sends, against the limit of this machine.

    python bench/send_throughput.py [--clients 10000] [--naive-limit 2000]

Starts an aiosmtpd sink in its own process, makes N clients in a benchmark
database (SQLite under var/ unless DATABASE_URL is set), and measures:

  (a) a bare smtplib loop over one connection: the limit of this machine;
  (b) a naive loop of Django's send_mail plus one saved Attempt per client
      (what most Django mailers do; run on --naive-limit clients);
  (c) Mailsite's engine (mailings.engine, the code the django-q2 workers
      run) with one worker process and with two, on a plain-text message;
  (d) the same with a personalised Markdown message (placeholders filled per
      recipient, HTML and text parts, a signed unsubscribe link each).

Every email of the engine is multipart (text + HTML in the layout, with the
unsubscribe headers), so (a) sends bytes of the same size as the engine's
email for that message: (a) for (c) and (a') for (d).

Prints messages per second, the ratio to (a) and the peak memory (peak RSS,
VmHWM) of the engine's worker processes, and writes bench/results/send_throughput.json.
"""

import argparse
import json
import os
import resource
import secrets
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results" / "send_throughput.json"
sys.path.insert(0, str(BASE_DIR))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the sink (its own process) --------------------------------------------------------


def run_sink(port):
    from aiosmtpd.controller import Controller

    class Counting:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
            Counting.count += len(envelope.rcpt_tos)
            return "250 OK"

    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # sigwait needs them blocked (also in the server thread)
    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait(stop)
    controller.stop()
    print(Counting.count, flush=True)


def start_sink(port):
    proc = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def stop_sink(proc):
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return int(out.strip() or 0)


# --- Django -----------------------------------------------------------------------------


def setup_django(port):
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'bench.sqlite3'}")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mailsite.settings",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "AXES_ENABLED": "false",
            "DJANGO_DEBUG": "false",  # production posture: no SQL query log
        }
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))  # production refuses a weak one
    os.environ.pop("EMAIL_URL", None)
    import django

    django.setup()


def make_data(n):

    from accounts.models import User
    from mailings.models import Client, Mailing, Message

    Mailing.objects.filter(owner__email="bench@example.org").delete()
    User.objects.filter(email="bench@example.org").delete()
    owner = User.objects.create_user(email="bench@example.org", password="bench-password-123")
    batch = 5000
    for start in range(0, n, batch):
        Client.objects.bulk_create(
            Client(owner=owner, email=f"client{i:07d}@example.org", full_name=f"Client {i}")
            for i in range(start, min(n, start + batch))
        )
    plain = Message.objects.create(
        owner=owner, subject="Benchmark news — été", body="Hello,\n\n" + "News. " * 80, body_format="text"
    )
    personal = Message.objects.create(
        owner=owner,
        subject="Benchmark news — été",
        body='# Hello, {{ first_name|default:"friend" }}!\n\n'
        + "News **today**, and [more](https://example.org/news). " * 16
        + "\n\nWritten for {{ full_name }} at {{ email }}.",
        body_format="markdown",
    )
    return owner, plain, personal


def email_size_and_cost(owner, message, n=2000) -> tuple[int, float]:
    """Bytes of the engine's email of this message for one recipient, and
    microseconds to build one (placeholders, both parts, unsubscribe token)."""
    from mailings.engine import MailBuilder

    builder = MailBuilder(message=message, owner=owner)
    size = len(builder.render(email="client0000000@example.org", name="Client 0", client_id=1, key="r1.d1"))
    started = time.perf_counter()
    for i in range(n):
        builder.render(email=f"client{i:07d}@example.org", name=f"Client {i}", client_id=i, key=f"r1.d{i}")
    return size, (time.perf_counter() - started) / n * 1e6


def new_mailing(owner, message, limit=None):
    from datetime import timedelta

    from django.utils import timezone

    from mailings.models import Client, Mailing

    now = timezone.now()
    mailing = Mailing.objects.create(
        owner=owner,
        message=message,
        start_at=now - timedelta(minutes=1),
        end_at=now + timedelta(days=1),
        next_run_at=now,
    )
    through = Mailing.clients.through
    ids = Client.objects.filter(owner=owner).order_by("pk").values_list("pk", flat=True)
    if limit:
        ids = ids[:limit]
    rows = []
    for client_id in ids.iterator(chunk_size=5000):
        rows.append(through(mailing_id=mailing.pk, client_id=client_id))
        if len(rows) == 5000:
            through.objects.bulk_create(rows)
            rows = []
    through.objects.bulk_create(rows)
    return mailing


# --- (a) bare smtplib ----------------------------------------------------------------------


def bench_bare(port, emails, size):
    from email.utils import formatdate

    line = b"News. " * 12 + b"\r\n"
    body = b"Hello,\r\n\r\n" + line * (size // len(line))
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i, email in enumerate(emails):
            head = (
                f"From: bench@example.org\r\nTo: {email}\r\nSubject: Benchmark\r\n"
                f"Date: {formatdate()}\r\nMessage-ID: <{i}@bench>\r\n\r\n"
            ).encode()
            smtp.sendmail("bench@example.org", [email], head + body)
    return time.perf_counter() - started


# --- (b) naive send_mail + Attempt --------------------------------------------------------


def bench_naive(owner, message):
    from django.core.mail import send_mail
    from django.utils import timezone

    from mailings.models import Attempt, Run

    mailing = new_mailing(owner, message, limit=ARGS.naive_limit)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now())
    clients = list(mailing.clients.values_list("pk", "email"))
    started = time.perf_counter()
    for client_id, email in clients:
        send_mail(message.subject, message.body, None, [email])
        Attempt.objects.create(
            mailing=mailing, run=run, client_id=client_id, email=email, status="success", smtp_code=250
        )
    return time.perf_counter() - started, len(clients)


# --- (c) the engine, in worker processes ------------------------------------------------------


def peak_rss_kb():
    """This process's peak RSS. VmHWM, not ru_maxrss: on Linux ru_maxrss
    carries over the parent's peak through fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(run_id):
    from mailings.engine import send_run_inline

    started = time.time()
    results = send_run_inline(run_id)
    finished = time.time()
    peak_kb = peak_rss_kb()
    print(
        json.dumps({"start": started, "end": finished, "sent": sum(r.sent for r in results), "maxrss_kb": peak_kb}),
        flush=True,
    )


def bench_engine(owner, message, port, workers):
    from mailings.engine import start_due_run
    from mailings.models import Run

    mailing = new_mailing(owner, message)
    run = start_due_run(mailing.pk, enqueue=False)
    env = {**os.environ}
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(run.pk), "--port", str(port)],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(workers)
    ]
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        reports.append(json.loads(out.strip().splitlines()[-1]))
    run = Run.objects.get(pk=run.pk)
    elapsed = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    return {
        "seconds": elapsed,
        "sent": run.sent_count,
        "per_worker": [r["sent"] for r in reports],
        "peak_rss_mb": max(r["maxrss_kb"] for r in reports) / 1024,
        "status": run.status,
    }


ENGINE_ROWS = (
    ("c_engine_1_worker", "(c) engine, 1 worker, plain", "a_bare_smtplib"),
    ("c_engine_2_worker", "(c) engine, 2 workers, plain", "a_bare_smtplib"),
    ("d_engine_personalised_1_worker", "(d) engine, 1 worker, personalised", "a_bare_smtplib_personalised"),
    ("d_engine_personalised_2_worker", "(d) engine, 2 workers, personalised", "a_bare_smtplib_personalised"),
)


def bare_best(port, emails, size, first):
    # (a) runs before and after the engine: this machine is shared, so the
    # faster of the two is the baseline (the stricter ratio for the engine).
    again = bench_bare(port, emails, size)
    n = len(emails)
    best = min(first, again)
    return {
        "messages": n,
        "bytes": size,
        "seconds": best,
        "msgs_per_s": n / best,
        "runs_msgs_per_s": [n / first, n / again],
    }


def main():
    from django.core.management import call_command

    port = free_port()
    setup_django(port)
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    sink = start_sink(port)
    try:
        n = ARGS.clients
        owner, plain, personal = make_data(n)
        measured = {"plain": email_size_and_cost(owner, plain), "personal": email_size_and_cost(owner, personal)}
        sizes = {kind: size for kind, (size, _cost) in measured.items()}
        emails = [f"client{i:07d}@example.org" for i in range(n)]
        results = {"clients": n, "database": os.environ["DATABASE_URL"].split(":")[0], "cpus": os.cpu_count()}
        results["render_us_per_message"] = {kind: round(cost, 1) for kind, (_size, cost) in measured.items()}

        bare = {kind: bench_bare(port, emails, size) for kind, size in sizes.items()}
        naive_s, naive_n = bench_naive(owner, plain)
        results["b_naive_send_mail"] = {"messages": naive_n, "seconds": naive_s, "msgs_per_s": naive_n / naive_s}
        for key, message in (("c_engine", plain), ("d_engine_personalised", personal)):
            for workers in (1, 2):
                engine = bench_engine(owner, message, port, workers)
                engine["msgs_per_s"] = engine["sent"] / engine["seconds"]
                results[f"{key}_{workers}_worker"] = engine
        results["a_bare_smtplib"] = bare_best(port, emails, sizes["plain"], bare["plain"])
        results["a_bare_smtplib_personalised"] = bare_best(port, emails, sizes["personal"], bare["personal"])
    finally:
        received = stop_sink(sink)
    results["sink_received"] = received
    print(f"\nSending {n} messages to a local aiosmtpd sink ({results['database']}, {results['cpus']} CPUs)\n")
    print(f"{'method':<40} {'bytes':>6} {'messages':>9} {'msgs/s':>9} {'x (a)':>7} {'peak RSS':>10}")
    rows = (
        ("a_bare_smtplib", "(a) bare smtplib, plain size", "a_bare_smtplib"),
        ("a_bare_smtplib_personalised", "(a') bare smtplib, personalised size", "a_bare_smtplib_personalised"),
        ("b_naive_send_mail", "(b) send_mail + Attempt per client", "a_bare_smtplib"),
        *ENGINE_ROWS,
    )
    for key, label, base in rows:
        row = results[key]
        row["ratio_to_a"] = row["msgs_per_s"] / results[base]["msgs_per_s"]
        size = str(results[base]["bytes"]) if key.startswith(("a_", "c_", "d_")) else ""
        rss = f"{row['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in row else ""
        count = row.get("sent", row.get("messages"))
        print(f"{label:<40} {size:>6} {count:>9} {row['msgs_per_s']:>9.0f} {row['ratio_to_a']:>7.2f} {rss:>10}")
    cost = results["render_us_per_message"]
    print(f"\nbuilding one email: {cost['plain']} µs plain, {cost['personal']} µs personalised")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = RESULTS if n == 10000 else RESULTS.with_name(f"send_throughput_{n}.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--naive-limit", type=int, default=2000, help="clients for (b), which is slow")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ARGS = parser.parse_args()
    if ARGS.sink:
        run_sink(ARGS.sink)
    elif ARGS.worker:
        setup_django(ARGS.port)
        worker(ARGS.worker)
    else:
        main()

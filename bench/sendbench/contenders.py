"""The contenders; each call is one timed sample on a fresh set of deliveries.

(a)  bare smtplib over one reused connection (a2: two connections in two processes);
(b)  a fair naive Django loop: one reused connection, an EmailMultiAlternatives
     per client, one Attempt saved with the ORM (autocommit) per client;
(c)  the engine in 1 or 2 worker processes (send_run_inline, public API);
peer django-post-office: queued with send_many, sent by its send_queued_mail loop.
"""

import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from email import message_from_bytes
from email.utils import formatdate

from sendbench.runtime import BASE_DIR

SCRIPT = BASE_DIR / "bench" / "send_throughput.py"
OWNER_EMAIL = "bench@example.org"


def make_data(n):
    from accounts.models import User
    from mailings.models import Client, Message

    owner = User.objects.create_user(email=OWNER_EMAIL, password="bench-password-123")
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


class Content:
    """The engine's email of a message for one recipient: its size, and its
    parts, so that (b) and the peer send the same text and HTML."""

    def __init__(self, owner, message):
        from mailings.engine import MailBuilder

        builder = MailBuilder(message=message, owner=owner)
        raw = builder.render(email="client0000000@example.org", name="Client 0", client_id=1, key="r1.d1")
        self.size = len(raw)
        parsed = message_from_bytes(raw)
        self.subject = str(message.subject)
        self.from_email = parsed["From"]
        parts = {
            part.get_content_type(): part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            for part in parsed.walk()
            if not part.is_multipart()
        }
        self.text = parts.get("text/plain", "")
        self.html = parts.get("text/html", "")
        started = time.perf_counter()
        for i in range(500):
            builder.render(email=f"client{i:07d}@example.org", name=f"Client {i}", client_id=i, key=f"r1.d{i}")
        self.render_us = (time.perf_counter() - started) / 500 * 1e6


def new_mailing(owner, message, limit=None):
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
    ids = list(Client.objects.filter(owner=owner).order_by("pk").values_list("pk", flat=True)[:limit])
    for start in range(0, len(ids), 5000):
        through.objects.bulk_create(through(mailing_id=mailing.pk, client_id=pk) for pk in ids[start : start + 5000])
    return mailing


# --- (a) bare smtplib -----------------------------------------------------------------------


def _bare_loop(port, emails, size):
    import smtplib

    line = b"News. " * 12 + b"\r\n"
    body = b"Hello,\r\n\r\n" + line * (size // len(line))
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i, email in enumerate(emails):
            head = (
                f"From: bench@example.org\r\nTo: {email}\r\nSubject: Benchmark\r\n"
                f"Date: {formatdate()}\r\nMessage-ID: <{i}@bench>\r\n\r\n"
            ).encode()
            smtp.sendmail("bench@example.org", [email], head + body)


def bare(port, emails, size, connections=1):
    """Seconds to send `emails` over `connections` connections, one process each."""
    if connections == 1:
        started = time.perf_counter()
        _bare_loop(port, emails, size)
        return {"seconds": time.perf_counter() - started, "sent": len(emails)}
    ctx = multiprocessing.get_context("fork")
    shares = [emails[i::connections] for i in range(connections)]
    started = time.perf_counter()
    procs = [ctx.Process(target=_bare_loop, args=(port, share, size)) for share in shares]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    seconds = time.perf_counter() - started
    if any(proc.exitcode for proc in procs):
        raise RuntimeError("a bare loop process failed")
    return {"seconds": seconds, "sent": len(emails)}


# --- (b) the naive Django loop ---------------------------------------------------------------


def naive(owner, message, content, limit):
    from django.core.mail import EmailMultiAlternatives, get_connection
    from django.utils import timezone

    from mailings.models import Attempt, Run

    mailing = new_mailing(owner, message, limit=limit)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now())
    clients = list(mailing.clients.order_by("pk").values_list("pk", "email"))
    started = time.perf_counter()
    with get_connection() as connection:  # opened once, reused for every client
        for client_id, email in clients:
            msg = EmailMultiAlternatives(content.subject, content.text, None, [email], connection=connection)
            msg.attach_alternative(content.html, "text/html")
            msg.send()
            Attempt(mailing=mailing, run=run, client_id=client_id, email=email, status="success", smtp_code=250).save()
    return {"seconds": time.perf_counter() - started, "sent": len(clients)}


def naive_size(content):
    from django.core.mail import EmailMultiAlternatives

    msg = EmailMultiAlternatives(content.subject, content.text, None, ["client0000000@example.org"])
    msg.attach_alternative(content.html, "text/html")
    return len(msg.message().as_bytes())


# --- (c) the engine in worker processes ------------------------------------------------------------


def engine(owner, message, workers, env):
    from mailings.engine import start_due_run
    from mailings.models import Run

    mailing = new_mailing(owner, message)
    run = start_due_run(mailing.pk, enqueue=False)
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), "--role", "worker", "--run", str(run.pk)],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(workers)
    ]
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        if proc.returncode:
            raise RuntimeError(f"engine worker failed ({proc.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    run = Run.objects.get(pk=run.pk)
    return {
        "seconds": max(r["end"] for r in reports) - min(r["start"] for r in reports),
        "sent": run.sent_count,
        "per_worker": [r["sent"] for r in reports],
        "peak_rss_mb": round(max(r["maxrss_kb"] for r in reports) / 1024, 1),
        "status": run.status,
    }


# --- the peer: django-post-office ---------------------------------------------------------------


def peer(content, emails, processes, env):
    from post_office import mail
    from post_office.models import STATUS, Email

    first_id = (Email.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    started = time.perf_counter()
    for start in range(0, len(emails), 1000):
        mail.send_many(
            [
                {
                    "recipients": [email],
                    "sender": content.from_email,
                    "subject": content.subject,
                    "message": content.text,
                    "html_message": content.html,
                }
                for email in emails[start : start + 1000]
            ]
        )
    queue_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), "--role", "peer", "--processes", str(processes), "--lockfile", f"{tmp}/po"],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            timeout=3600,
            check=True,
        )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    mine = Email.objects.filter(pk__gte=first_id)
    return {
        "seconds": report["end"] - report["start"],
        "queue_seconds": queue_seconds,
        "queue_msgs_per_s": len(emails) / queue_seconds,
        "sent": mine.filter(status=STATUS.sent).count(),
        "not_sent": mine.exclude(status=STATUS.sent).count(),
        "peak_rss_mb": round(report["maxrss_kb"] / 1024, 1),
    }


def peer_size():
    """Bytes of a message the peer sent (its own MIME build of the same parts)."""
    from post_office.models import Email

    email = Email.objects.order_by("pk").first()
    return len(email.prepare_email_message().message().as_bytes()) if email else None

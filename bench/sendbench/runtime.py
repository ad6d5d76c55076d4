"""Django in a bench process, and the two kinds of sending processes the
bench starts: an engine worker and a django-post-office sender."""

import json
import logging
import os
import resource
import secrets
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SETTINGS = "sendbench.settings"


def bench_env(port, database_url, async_commit=None):
    """The environment of every bench process of one database mode."""
    env = {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "AXES_ENABLED": "false",
        "DJANGO_DEBUG": "false",  # production posture: no SQL query log
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(64),
    }
    if async_commit is not None:
        # The engine's journal session follows the database's durability, like every other contender.
        env["MAILINGS_ASYNC_COMMIT"] = "true" if async_commit else "false"
    return env


def setup_django():
    # Every contender uses the same cache: the database one (no Redis in the measurement).
    for name in ("EMAIL_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django

    django.setup()


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


def engine_worker(run_id):
    """Role `worker`: one engine worker process, through the public API the django-q2 tasks use."""
    from mailings.engine import send_run_inline

    started = time.time()
    results = send_run_inline(run_id)
    finished = time.time()
    report = {"start": started, "end": finished, "sent": sum(r.sent for r in results), "maxrss_kb": peak_rss_kb()}
    print(json.dumps(report), flush=True)


def peer_sender(processes, lockfile):
    """Role `peer`: django-post-office's send_queued_mail command, in-process
    (the same loop: batch after batch until nothing is queued)."""
    from post_office.mail import send_queued_mail_until_done

    # Its own handler logs two INFO lines per batch and process: noise here.
    logging.getLogger("post_office").setLevel(logging.WARNING)
    started = time.time()
    send_queued_mail_until_done(lockfile=lockfile, processes=processes)
    finished = time.time()
    print(json.dumps({"start": started, "end": finished, "maxrss_kb": peak_rss_kb()}), flush=True)

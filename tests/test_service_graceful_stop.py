"""A graceful stop (issue 11, item 5; run by .ci/run): SIGTERM to a cluster's
process group mid-run, as honcho sends it on Ctrl-C. Every process is gone
within 10 s, each worker having finished its current message, recorded it
and given back its claims."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.status import Stat

from accounts.tests.factories import UserFactory
from core.testing.smtp import RecordingHandler, SMTPTestServer
from mailings import engine
from mailings.models import Attempt, AttemptStatus, Client, Delivery, DeliveryState, Mailing, Message

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BASE_DIR = Path(__file__).resolve().parents[1]


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_mid_run_stops_the_cluster_within_10_s_with_no_claim_held(tmp_path, monkeypatch):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.fail("service tests need PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
    broker = get_broker()
    assert broker.ping(), "Redis does not answer at REDIS_URL"
    broker.purge_queue()
    monkeypatch.setattr(Conf, "SYNC", False)
    owner = UserFactory()
    Client.objects.bulk_create(Client(owner=owner, email=f"stop{i:04d}@example.org") for i in range(600))
    message = Message.objects.create(owner=owner, subject="Stop test", body="Hello.\n")
    start = timezone.now() - timedelta(minutes=1)
    mailing = Mailing.objects.create(owner=owner, message=message, start_at=start, end_at=start + timedelta(days=1))
    mailing.clients.set(Client.objects.filter(owner=owner))

    with SMTPTestServer(handler=RecordingHandler(parse=False)) as sink:
        sink.fault("slow", delay=0.05)  # the run lasts far longer than the test
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "EMAIL_HOST": sink.host,
            "EMAIL_PORT": str(sink.port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "Q_WORKERS": "2",
            "MAILINGS_CHUNK_SIZE": "100",
            "LOG_LEVEL": "INFO",
        }
        env.pop("EMAIL_URL", None)
        log = tmp_path / "cluster.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 60
            while not any(s.status == Conf.IDLE for s in Stat.get_all()):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            engine.replan_mailing(mailing)
            while Attempt.objects.filter(mailing=mailing).count() < 20:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

            stopped_at = time.monotonic()
            os.killpg(proc.pid, signal.SIGTERM)  # what honcho does on Ctrl-C
            proc.wait(timeout=10)
            while group_alive(proc.pid):
                assert time.monotonic() - stopped_at < 10, "the cluster's processes outlived 10 s\n" + log.read_text()
                time.sleep(0.1)
        finally:
            if group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)

    deliveries = Delivery.objects.filter(run__mailing=mailing)
    assert not deliveries.filter(state=DeliveryState.SENDING).exists(), log.read_text()
    assert not deliveries.exclude(claim_token="").exists()
    sent = Attempt.objects.filter(mailing=mailing, status=AttemptStatus.SUCCESS).count()
    assert deliveries.filter(state=DeliveryState.SENT).count() == sent  # every message sent is on record
    assert deliveries.filter(state=DeliveryState.PENDING).count() == 600 - sent  # the rest waits for a cluster

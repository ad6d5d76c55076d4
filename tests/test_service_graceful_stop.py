"""A graceful stop (issue 11, item 5; run by .ci/run): SIGTERM to a cluster's
process group mid-run, as honcho sends it on Ctrl-C. Every process is gone
within 10 s, each worker having finished its current message, recorded it
and given back its claims."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.testing.smtp import RecordingHandler, SMTPTestServer
from mailings import engine
from mailings.models import Attempt, AttemptStatus, Client, Delivery, DeliveryState, Mailing, Message
from tests.services import group_alive, require_services, start_cluster

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_sigterm_mid_run_stops_the_cluster_within_10_s_with_no_claim_held(tmp_path, monkeypatch):
    require_services(monkeypatch)
    owner = UserFactory()
    Client.objects.bulk_create(Client(owner=owner, email=f"stop{i:04d}@example.org") for i in range(600))
    message = Message.objects.create(owner=owner, subject="Stop test", body="Hello.\n")
    start = timezone.now() - timedelta(minutes=1)
    mailing = Mailing.objects.create(owner=owner, message=message, start_at=start, end_at=start + timedelta(days=1))
    mailing.clients.set(Client.objects.filter(owner=owner))

    with SMTPTestServer(handler=RecordingHandler(parse=False)) as sink:
        sink.fault("slow", delay=0.05)  # the run lasts far longer than the test
        log = tmp_path / "cluster.log"
        proc = start_cluster(
            log,
            EMAIL_HOST=sink.host,
            EMAIL_PORT=str(sink.port),
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            Q_WORKERS="2",
            MAILINGS_CHUNK_SIZE="100",
        )
        try:
            deadline = time.monotonic() + 60
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

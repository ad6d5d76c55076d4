"""Real django-q2 clusters against real PostgreSQL and Redis (run by .ci/run).

Two `qcluster` processes share a 2,000-client mailing: every client gets
exactly one successful attempt and both clusters sent some. A cluster killed
with SIGKILL mid-run, then another started: every client is delivered, at
most one message twice. These tests fail (never skip) without the services.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.status import Stat

from accounts.tests.factories import UserFactory
from core.testing.smtp import RecordingHandler, SMTPTestServer
from mailings import engine
from mailings.models import Attempt, Client, Mailing, Message, Run, RunStatus

# serialized_rollback: a transactional test starts from the migrated data (roles,
# permissions, pages), whatever transactional test emptied the database before it.
pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def services(monkeypatch):
    """Real PostgreSQL and Redis, or a failure saying what is missing."""
    if connection.vendor != "postgresql":
        pytest.fail("service tests need PostgreSQL: set DATABASE_URL=postgres://...")
    if not os.environ.get("REDIS_URL"):
        pytest.fail("service tests need Redis: set REDIS_URL=redis://...")
    broker = get_broker()
    if not broker.ping():
        pytest.fail("Redis does not answer at REDIS_URL")
    broker.purge_queue()
    monkeypatch.setattr(Conf, "SYNC", False)
    return broker


@pytest.fixture
def sink():
    with SMTPTestServer(handler=RecordingHandler(parse=False)) as server:
        yield server


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Clusters:
    def __init__(self, tmp_path, sink):
        self.tmp_path = tmp_path
        self.sink = sink
        self.procs = {}

    def start(self, name, workers=2, **extra):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),  # pytest-django's test database
            "EMAIL_HOST": self.sink.host,
            "EMAIL_PORT": str(self.sink.port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_TIMEOUT": "5",
            "Q_WORKERS": str(workers),
            # No hoarding: a cluster takes no more chunks off Redis than its workers can start,
            # so a cluster that is slower to get the CPU still finds chunks left to send.
            "Q_QUEUE_LIMIT": str(workers),
            "MAILINGS_NODE_NAME": name,
            "MAILINGS_CHUNK_SIZE": "100",
            "MAILINGS_CLAIM_STALE_SECONDS": "3",
            "MAILINGS_RUN_IDLE_SECONDS": "3",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
        env.pop("EMAIL_URL", None)
        log = (self.tmp_path / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we can kill the whole cluster
        )
        return self.procs[name]

    def kill(self, name):
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self):
        for name in list(self.procs):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # the cluster's main process stops its workers
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever of its group is left
            proc.wait(timeout=10)

    def logs(self):
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.tmp_path.glob("*.log"))


@pytest.fixture
def clusters(tmp_path, sink):
    group = Clusters(tmp_path, sink)
    yield group
    group.stop_all()


def big_mailing(n):
    owner = UserFactory()
    Client.objects.bulk_create(Client(owner=owner, email=f"client{i:05d}@example.org") for i in range(n))
    message = Message.objects.create(owner=owner, subject="Big news", body="Hello from the service test.\n")
    start = timezone.now() - timedelta(minutes=1)
    mailing = Mailing.objects.create(owner=owner, message=message, start_at=start, end_at=start + timedelta(days=1))
    mailing.clients.set(Client.objects.filter(owner=owner))
    engine.ensure_dispatch_schedule()
    return mailing


def wait_for(predicate, timeout, clusters, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}\n{clusters.logs()}")


def run_of(mailing):
    return Run.objects.filter(mailing=mailing).first()


def finished(mailing):
    run = run_of(mailing)
    return run is not None and run.status == RunStatus.FINISHED


def successes_per_client(run):
    return Counter(
        dict(
            Attempt.objects.filter(run=run, status="success")
            .values_list("client_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
    )


def test_two_clusters_share_a_run_and_every_client_gets_exactly_one(services, sink, clusters):
    mailing = big_mailing(2000)
    sink.fault("slow", delay=0.002)  # far below the timeout: the run lasts long enough to be shared
    clusters.start("cluster-a")
    clusters.start("cluster-b")
    # Both clusters must be up before the run starts, or the first one may take every chunk.
    wait_for(lambda: len(Stat.get_all(broker=services)) >= 2, 60, clusters, "both clusters to start")

    engine.replan_mailing(mailing)  # enqueued on Redis; a cluster starts the run

    wait_for(lambda: finished(mailing), 150, clusters, "the run to finish")
    run = run_of(mailing)
    assert (run.recipients_count, run.sent_count, run.failed_count) == (2000, 2000, 0)
    per_client = successes_per_client(run)
    assert len(per_client) == 2000
    assert set(per_client.values()) == {1}
    received = Counter(sink.handler.recipients)
    assert len(received) == 2000
    assert set(received.values()) == {1}
    nodes = Counter(s.split(":")[0] for s in Attempt.objects.filter(run=run).values_list("sent_by", flat=True))
    assert set(nodes) == {"cluster-a", "cluster-b"}, nodes
    mailing.refresh_from_db()
    assert mailing.status == "completed"


def test_a_cluster_killed_mid_run_loses_nobody_and_repeats_at_most_one(services, sink, clusters):
    mailing = big_mailing(2000)
    sink.fault("slow", delay=0.004)  # a throttle, far below the timeout: the run takes a while
    clusters.start("cluster-a", workers=1)

    engine.replan_mailing(mailing)

    wait_for(
        lambda: Attempt.objects.filter(mailing=mailing, status="success").count() >= 300,
        90,
        clusters,
        "the first messages",
    )
    clusters.kill("cluster-a")  # SIGKILL to its one worker and everything else
    sent_before_restart = Attempt.objects.filter(mailing=mailing, status="success").count()
    assert sent_before_restart < 2000
    assert not finished(mailing)

    # The dispatcher (due at once) takes back the dead worker's stale claims.
    Schedule.objects.filter(name=engine.DISPATCH_SCHEDULE).update(next_run=timezone.now())
    clusters.start("cluster-b")

    wait_for(lambda: finished(mailing), 150, clusters, "the run to finish after the restart")
    run = run_of(mailing)
    assert (run.sent_count, run.failed_count) == (2000, 0)
    per_client = successes_per_client(run)
    assert len(per_client) == 2000
    assert set(per_client.values()) == {1}
    received = Counter(sink.handler.recipients)
    assert len(received) == 2000, "every client delivered"
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= 1, f"{duplicates} messages sent twice"
    nodes = {s.split(":")[0] for s in Attempt.objects.filter(run=run).values_list("sent_by", flat=True)}
    assert nodes == {"cluster-a", "cluster-b"}

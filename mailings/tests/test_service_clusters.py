"""Real django-q2 clusters against real PostgreSQL and Redis (run by .ci/run).

Every test starts from a known state: its clusters are up, with their workers,
and their pushers wait on Redis before the run starts (tests/services.py
wait_ready). Two clusters of one worker share a 2,000-client run about evenly,
every client getting exactly one message. One of two clusters dies mid-run:
the survivor finishes, taking the dead one's recipients up within 30 s, nobody
lost, at most one message twice per SMTP connection. A cluster killed alone, then another started:
the newcomer finishes the run. These tests fail (never skip) without the services.
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
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf

from accounts.tests.factories import UserFactory
from core.testing.smtp import RecordingHandler, SMTPTestServer
from mailings import engine
from mailings.models import Attempt, Client, Delivery, DeliveryState, Mailing, Message, Run, RunStatus
from tests.services import wait_ready

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
        self.workers = {}

    def start(self, name, workers=1, **extra):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),  # pytest-django's test database
            "EMAIL_HOST": self.sink.host,
            "EMAIL_PORT": str(self.sink.port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_TIMEOUT": "5",
            "Q_WORKERS": str(workers),
            "MAILINGS_NODE_NAME": name,
            "MAILINGS_CHUNK_SIZE": "100",
            "LOG_LEVEL": "INFO",
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
        self.workers[name] = workers
        return self.procs[name]

    def wait_ready(self):
        """Every cluster started so far is up and its pusher waits on Redis."""
        wait_ready(
            {self.procs[name].pid: self.workers[name] for name in self.procs},
            list(self.procs.values()),
            describe=self.logs,
        )

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


def nodes_of(run):
    return Counter(s.split(":")[0] for s in Attempt.objects.filter(run=run).values_list("sent_by", flat=True))


def test_two_clusters_share_a_run_and_every_client_gets_exactly_one(services, sink, clusters):
    mailing = big_mailing(2000)
    sink.fault("slow", delay=0.002)  # far below the timeout: the run lasts long enough to be shared
    clusters.start("cluster-a")
    clusters.wait_ready()  # a started first: it must not keep the run to itself
    clusters.start("cluster-b")
    clusters.wait_ready()

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
    nodes = nodes_of(run)
    # One worker each: each sends about half (chunks of 100 are claimed as workers free up).
    assert 0.3 <= nodes["cluster-a"] / 2000 <= 0.7, nodes
    assert 0.3 <= nodes["cluster-b"] / 2000 <= 0.7, nodes
    print(f"shares: {dict(nodes)}")
    mailing.refresh_from_db()
    assert mailing.status == "completed"


def freeze_while_holding_claims(clusters, name, mailing, tries=20):
    """Stop every process of a cluster (SIGSTOP) at a moment it holds claims:
    its death, as the others see it. Returns (death time, its claimed delivery ids).
    The survivor refreshes its own claims every second (MAILINGS_CHECK_SECONDS),
    so after 3 s the claims stamped before the freeze are the frozen cluster's."""
    pgid = clusters.procs[name].pid
    for _try in range(tries):
        died = timezone.now()
        os.killpg(pgid, signal.SIGSTOP)
        time.sleep(3)
        held = list(
            Delivery.objects.filter(run__mailing=mailing, state=DeliveryState.SENDING, claimed_at__lt=died).values_list(
                "pk", flat=True
            )
        )
        if held:
            return died, held
        os.killpg(pgid, signal.SIGCONT)  # between two chunks: let it take the next one
        time.sleep(0.3)
    pytest.fail(f"{name} never held a claim\n{clusters.logs()}")


def test_a_cluster_dies_mid_run_and_the_survivor_takes_its_work_within_30s(services, sink, clusters):
    mailing = big_mailing(2000)
    sink.fault("slow", delay=0.004)  # a throttle, far below the timeout: the run takes a while
    clusters.start("cluster-a")
    clusters.start("cluster-b")
    clusters.wait_ready()

    engine.replan_mailing(mailing)

    wait_for(lambda: len(nodes_of(run_of(mailing)) if run_of(mailing) else ()) == 2, 60, clusters, "both sending")
    died, held = freeze_while_holding_claims(clusters, "cluster-a", mailing)
    clusters.kill("cluster-a")  # SIGKILL to its worker and everything else
    assert not finished(mailing)

    wait_for(lambda: finished(mailing), 150, clusters, "the survivor to finish the run")
    run = run_of(mailing)
    assert (run.sent_count, run.failed_count) == (2000, 0)
    assert len(successes_per_client(run)) == 2000, "nobody lost"
    received = Counter(sink.handler.recipients)
    assert len(received) == 2000, "every client delivered"
    duplicates = sum(n - 1 for n in received.values())
    # The dead cluster had one worker: at most its message on the wire on each of its connections.
    assert duplicates <= settings.MAILINGS_SMTP_CONNECTIONS, f"{duplicates} messages sent twice"
    clients = Delivery.objects.filter(pk__in=held).values("client_id")
    taken_up = (
        Attempt.objects.filter(run=run, client_id__in=clients, sent_by__startswith="cluster-b:")
        .order_by("attempted_at")
        .values_list("attempted_at", flat=True)
        .first()
    )
    assert taken_up is not None, "the survivor sent the dead cluster's recipients"
    recovery = (taken_up - died).total_seconds()
    print(f"recovery: {recovery:.1f} s for {len(held)} claimed recipients")
    assert recovery < 30, recovery


def test_a_cluster_killed_alone_then_another_started_loses_nobody(services, sink, clusters):
    mailing = big_mailing(2000)
    sink.fault("slow", delay=0.004)  # a throttle, far below the timeout: the run takes a while
    clusters.start("cluster-a")
    clusters.wait_ready()

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

    # Its chunk tasks died with it: the newcomer's sweep takes the stale claims back and feeds its idle worker.
    clusters.start("cluster-b", MAILINGS_CLAIM_STALE_SECONDS="3")

    wait_for(lambda: finished(mailing), 150, clusters, "the run to finish after the restart")
    run = run_of(mailing)
    assert (run.sent_count, run.failed_count) == (2000, 0)
    per_client = successes_per_client(run)
    assert len(per_client) == 2000
    assert set(per_client.values()) == {1}
    received = Counter(sink.handler.recipients)
    assert len(received) == 2000, "every client delivered"
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= settings.MAILINGS_SMTP_CONNECTIONS, f"{duplicates} messages sent twice"
    assert set(nodes_of(run)) == {"cluster-a", "cluster-b"}

"""The Redis broker on a real Redis (issue 11, item 6; run by .ci/run).

django-q2's pusher blocks on BLPOP for 1 s. On the cache's connection (0.5 s
socket timeout) every idle second ended in TimeoutError, a dead pusher and a
reincarnation, and a task waited ~9 s to be picked up. On its own connection
an idle cluster runs a minute with no restart and picks a task up at once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Task
from django_q.status import Stat
from django_q.tasks import async_task

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BASE_DIR = Path(__file__).resolve().parent.parent
IDLE_SECONDS = 60


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def redis_cluster(tmp_path, monkeypatch):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.fail("service tests need PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
    broker = get_broker()
    assert broker.ping(), "Redis does not answer at REDIS_URL"
    broker.purge_queue()
    monkeypatch.setattr(Conf, "SYNC", False)
    log_path = tmp_path / "cluster.log"
    env = {**os.environ, "DATABASE_URL": database_url(), "Q_WORKERS": "1", "LOG_LEVEL": "INFO"}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not any(s.status == Conf.IDLE for s in Stat.get_all()):
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the cluster did not start:\n" + log_path.read_text()
            time.sleep(0.2)
        yield proc, log_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def pickup_seconds(log_path) -> float:
    queued = timezone.now()
    task_id = async_task("math.floor", 2.5)
    deadline = time.monotonic() + 30
    while not (task := Task.objects.filter(id=task_id).first()):
        assert time.monotonic() < deadline, "the task never ran:\n" + log_path.read_text()
        time.sleep(0.05)
    assert task.result == 2
    return (task.started - queued).total_seconds()


def test_an_idle_cluster_keeps_its_pusher_and_picks_tasks_up_at_once(redis_cluster):
    proc, log_path = redis_cluster
    assert pickup_seconds(log_path) < 1
    time.sleep(IDLE_SECONDS)
    assert proc.poll() is None
    log = log_path.read_text()
    assert "reincarnated" not in log, log
    assert "TimeoutError" not in log, log
    assert pickup_seconds(log_path) < 1

"""The Redis broker on a real Redis (issue 11, item 6; run by .ci/run).

django-q2's pusher blocks on BLPOP for 1 s. On the cache's connection (0.5 s
socket timeout) every idle second ended in TimeoutError, a dead pusher and a
reincarnation, and a task waited ~9 s to be picked up. On its own connection
an idle cluster runs a minute with no restart and picks a task up at once."""

import os
import signal
import subprocess
import time

import pytest
from django.utils import timezone
from django_q.models import Task
from django_q.tasks import async_task

from tests.services import require_services, start_cluster

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

IDLE_SECONDS = 60


@pytest.fixture
def redis_cluster(tmp_path, monkeypatch):
    require_services(monkeypatch)
    log_path = tmp_path / "cluster.log"
    proc = start_cluster(log_path, Q_WORKERS="1")
    try:
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

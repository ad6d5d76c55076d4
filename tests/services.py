"""Helpers of the service tests that start real `qcluster` processes."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.status import Stat

BASE_DIR = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """pytest-django's test database, for the processes a test starts."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def require_services(monkeypatch):
    """Real PostgreSQL and Redis, an empty queue, tasks through the broker; or a failure saying what is missing."""
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.fail("service tests need PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
    broker = get_broker()
    assert broker.ping(), "Redis does not answer at REDIS_URL"
    broker.purge_queue()
    monkeypatch.setattr(Conf, "SYNC", False)


def start_cluster(log_path: Path, **env_vars) -> subprocess.Popen:
    """`manage.py qcluster` in its own process group, once it reports itself idle."""
    env = {**os.environ, "DATABASE_URL": database_url(), "LOG_LEVEL": "INFO", **env_vars}
    env.pop("EMAIL_URL", None)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_ready({proc.pid: int(env.get("Q_WORKERS", Conf.WORKERS))}, [proc], describe=log_path.read_text)
    return proc


def wait_ready(workers_by_pid: dict[int, int], procs, *, describe=lambda: "", timeout=90):
    """Until each cluster (by its main process id) reports itself idle with its
    workers, and as many pushers wait on the broker's queue (BLPOP) as there are
    clusters: then a task enqueued now can go to any of them. Real signals from
    Redis, never a fixed sleep; a stat left by an earlier test's cluster has another pid."""
    broker = get_broker()
    db = broker.connection.connection_pool.connection_kwargs.get("db", 0)
    deadline = time.monotonic() + timeout
    while True:
        for proc in procs:
            assert proc.poll() is None, "a cluster exited:\n" + describe()
        stats = {s.pid: s for s in Stat.get_all(broker=broker)}
        up = all(
            pid in stats and stats[pid].status == Conf.IDLE and len(stats[pid].workers) == n
            for pid, n in workers_by_pid.items()
        )
        pushers = sum(
            1 for c in broker.connection.client_list() if c.get("cmd") == "blpop" and int(c.get("db", -1)) == db
        )
        if up and pushers >= len(workers_by_pid):
            return
        assert time.monotonic() < deadline, f"clusters not ready (pushers {pushers}):\n" + describe()
        time.sleep(0.1)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True

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
    deadline = time.monotonic() + 60
    while not any(s.status == Conf.IDLE for s in Stat.get_all()):
        assert proc.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "the cluster did not start:\n" + log_path.read_text()
        time.sleep(0.2)
    return proc


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True

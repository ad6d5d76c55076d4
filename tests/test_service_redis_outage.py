"""Nothing is lost when Redis is down (issue 11, item 7; run by .ci/run).

The web process points at a Redis that is not there: sign-up and a new
mailing answer as usual, their email and wake-up wait in the database. Then
Redis starts, a cluster starts, and the verification email and the mailing's
message arrive."""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.models import OutgoingEmail
from core.testing.smtp import SMTPTestServer, free_port
from mailings.models import Mailing
from mailings.tests.factories import ClientFactory, MessageFactory
from tests.services import BASE_DIR, database_url

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "Outage-passw0rd!"


class Processes:
    def __init__(self, root):
        self.root = root
        self.procs = []

    def start(self, name, cmd, env):
        with (self.root / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                cmd, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append(proc)
        return proc

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def logs(self):
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.root.glob("*.log"))


@pytest.fixture
def processes(tmp_path):
    group = Processes(tmp_path)
    yield group
    group.stop()


def wait_until(predicate, timeout, what, processes):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}\n{processes.logs()}"
        time.sleep(0.3)


def form_post(session, url, data):
    page = session.get(url, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(url, data={"csrfmiddlewaretoken": token, **data}, timeout=30)


def test_signup_and_mailing_with_redis_down_are_delivered_once_it_is_back(processes, settings):
    if connection.vendor != "postgresql":
        pytest.fail("service tests need PostgreSQL: set DATABASE_URL=postgres://...")
    # The web process checks passwords with the real hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    owner = UserFactory(password=PASSWORD)
    client = ClientFactory(owner=owner, email="outage.client@example.org")
    message = MessageFactory(owner=owner, subject="Sent after the outage")

    redis_port, web_port = free_port(), free_port()
    with SMTPTestServer() as sink:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": database_url(),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",  # nothing listens there yet
            "EMAIL_HOST": sink.host,
            "EMAIL_PORT": str(sink.port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "Q_CLUSTER_NAME": f"outage{redis_port}",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("EMAIL_URL", None)
        web = f"http://127.0.0.1:{web_port}"
        processes.start("web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"], env)
        wait_until(lambda: _answers(web), 60, "the web server did not start", processes)

        visitor = requests.Session()
        response = form_post(
            visitor,
            web + "/accounts/signup/",
            {
                "email": "outage.new@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert response.status_code == 200, response.text[:2000]
        assert response.url.endswith("/accounts/signup/done/")

        customer = requests.Session()
        response = form_post(customer, web + "/accounts/login/", {"username": owner.email, "password": PASSWORD})
        assert response.url.endswith("/app/"), response.text[:2000]
        start = timezone.localtime()
        response = form_post(
            customer,
            web + "/app/mailings/new/",
            {
                "message": str(message.pk),
                "clients": str(client.pk),
                "start_at": f"{start:%Y-%m-%dT%H:%M}",
                "end_at": f"{start + timedelta(days=1):%Y-%m-%dT%H:%M}",
                "periodicity": "once",
            },
        )
        assert response.status_code == 200, response.text[:2000]
        assert Mailing.objects.filter(message=message).count() == 1
        assert OutgoingEmail.objects.filter(to="outage.new@example.org", state="pending").count() == 1
        assert sink.messages == []

        processes.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            env,
        )
        processes.start("cluster", [sys.executable, "manage.py", "qcluster"], env)

        def delivered(to):
            return any(to in str(m["To"]) for m in sink.messages)

        wait_until(lambda: delivered("outage.new@example.org"), 150, "no verification email", processes)
        wait_until(lambda: delivered("outage.client@example.org"), 150, "the mailing was not sent", processes)
        assert OutgoingEmail.objects.get(to="outage.new@example.org").state == "sent"


def _answers(url):
    try:
        requests.get(url + "/", timeout=5)
    except (requests.ConnectionError, requests.Timeout):
        return False
    return True

"""The django-q2 task entry points: outages are caught and noted, bugs fail the task."""

import smtplib

import pytest
from django.db import OperationalError
from django_q.models import Success
from django_q.tasks import async_task

from mailings import engine, tasks

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection"), OSError("network unreachable"), smtplib.SMTPException("x")],
)
@pytest.mark.parametrize(
    ("task", "engine_call", "arg"),
    [
        (tasks.dispatch_due, "dispatch_due", None),
        (tasks.dispatch_mailing, "dispatch_mailing", 1),
        (tasks.send_chunk, "send_chunk", 1),
    ],
)
def test_an_outage_is_logged_and_noted(monkeypatch, caplog, error, task, engine_call, arg):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(engine, engine_call, broken)
    assert (task() if arg is None else task(arg)) == "error"
    assert "failed" in caplog.text


@pytest.mark.parametrize("error", [TypeError("bug"), LookupError("bug"), ValueError("bug")])
def test_a_programming_error_fails_the_task(monkeypatch, error):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(engine, "send_chunk", broken)
    with pytest.raises(type(error)):
        tasks.send_chunk(1)


def test_a_bug_reaches_django_q_as_a_failure():
    # A real bug path, no stand-in: a run id that is not a number. In a worker
    # django-q2 stores this as a failed task; in sync mode it raises it here.
    with pytest.raises(ValueError, match="expected a number"):
        async_task("mailings.tasks.send_chunk", "not-a-number", task_name="bad-chunk")
    assert not Success.objects.filter(name="bad-chunk").exists()


def test_django_q_records_a_normal_run_as_a_success():
    async_task("mailings.tasks.send_chunk", 999999, task_name="no-such-run")
    assert Success.objects.get(name="no-such-run").result["claimed"] == 0

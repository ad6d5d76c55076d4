"""`manage.py runmailing`: the worker's code path in the foreground."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.testing.smtp import closed_port
from mailings.models import Attempt, Mailing, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


def make(user, n=3, **kwargs):
    clients = [ClientFactory(owner=user) for _ in range(n)]
    start = kwargs.pop("start_at", timezone.now() - timedelta(minutes=5))
    return MailingFactory(owner=user, start_at=start, end_at=start + timedelta(days=1), clients=clients, **kwargs)


def run_command(*args):
    out, err = StringIO(), StringIO()
    call_command("runmailing", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_runmailing_sends_a_mailing_in_the_foreground_with_a_summary(smtp_server, user):
    mailing = make(user, n=3)
    out, err = run_command(str(mailing.pk))
    assert len(smtp_server.messages) == 3
    assert "sent 3, failed 0" in out
    assert "3/3" in err  # the progress bar
    run = Run.objects.get(mailing=mailing)
    assert run.status == RunStatus.FINISHED
    assert Attempt.objects.filter(run=run, status="success").count() == 3


def test_runmailing_due_runs_what_is_due(smtp_server, user):
    due = make(user, n=2)
    Mailing.objects.filter(pk=due.pk).update(next_run_at=due.start_at)
    later = make(user, n=2, start_at=timezone.now() + timedelta(days=1))
    Mailing.objects.filter(pk=later.pk).update(next_run_at=later.start_at)
    run_command("--due")
    assert len(smtp_server.messages) == 2
    assert Run.objects.filter(mailing=due).count() == 1
    assert not Run.objects.filter(mailing=later).exists()


def test_runmailing_dry_run_sends_nothing(smtp_server, user):
    mailing = make(user, n=2)
    out, _ = run_command(str(mailing.pk), "--dry-run")
    assert "Would send mailing" in out
    assert "to 2 clients" in out
    assert smtp_server.messages == []
    assert not Run.objects.exists()


def test_runmailing_speaks_russian_with_three_plural_forms(smtp_server, user):
    mailing = make(user, n=2)
    out, _ = run_command(str(mailing.pk), "--dry-run", "--language", "ru")
    assert "ушла бы 2 клиентам" in out
    assert "Пробный прогон: ничего не отправлено." in out
    out, _ = run_command(str(mailing.pk), "--language", "ru")
    assert "отправлено 2, с ошибкой 0" in out
    assert "из 2 получателей" in out
    with pytest.raises(CommandError, match="Нет такой рассылки"):
        run_command("999999", "--language", "ru")


def test_runmailing_fails_for_an_unknown_mailing(db):
    with pytest.raises(CommandError, match="No such mailing"):
        run_command("999999")


def test_runmailing_exits_non_zero_when_the_mail_server_is_down(smtp_server, user, settings):
    settings.EMAIL_PORT = closed_port()
    mailing = make(user, n=2)
    with pytest.raises(CommandError, match="mail server unavailable") as error:
        run_command(str(mailing.pk))
    assert error.value.returncode == 2
    assert Run.objects.get(mailing=mailing).status == RunStatus.DEFERRED


def test_runmailing_refuses_a_disabled_mailing(smtp_server, user):
    mailing = make(user, n=2, is_active=False)
    with pytest.raises(CommandError, match="disabled"):
        run_command(str(mailing.pk))
    assert smtp_server.messages == []

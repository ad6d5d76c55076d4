"""Blocking and unblocking say what they do: the service itself re-plans the
user's mailings (no signal receiver on the user model does it behind its back)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import user_block, user_unblock
from mailings.models import DeliveryState, MailingStatus, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


def _mailing_with_a_waiting_run(user):
    clients = [ClientFactory(owner=user, email=f"c{i}@example.org") for i in range(2)]
    start = timezone.now() + timedelta(hours=1)
    mailing = MailingFactory(owner=user, start_at=start, end_at=start + timedelta(days=3), clients=clients)
    run = Run.objects.create(mailing=mailing, scheduled_for=start, status=RunStatus.PENDING)
    run.deliveries.create(client=clients[0], email=clients[0].email, state=DeliveryState.PENDING)
    return mailing, run


def test_no_receiver_on_the_user_stops_runs_behind_the_services_back(user, django_capture_on_commit_callbacks):
    _mailing, run = _mailing_with_a_waiting_run(user)
    with django_capture_on_commit_callbacks(execute=True):
        user.is_blocked = True
        user.save(update_fields=["is_blocked"])
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING


def test_user_block_stops_the_runs_and_unblock_schedules_again(user, manager, django_capture_on_commit_callbacks):
    mailing, run = _mailing_with_a_waiting_run(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user_block(user=user, by=manager, reason="Fraud")
    assert len(callbacks) == 1  # one call to the mailings side
    run.refresh_from_db()
    assert run.status == RunStatus.STOPPED
    assert run.stop_reason == "The owner's account is blocked."
    assert run.deliveries.get().state == DeliveryState.SKIPPED

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user_unblock(user=user, by=manager)
    assert len(callbacks) == 1
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.RUNNING
    assert mailing.next_run_at == mailing.start_at

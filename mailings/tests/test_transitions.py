"""The status model in one place: statuses from facts, the owner's actions per status."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mailings.models import Mailing, MailingStatus, Periodicity
from mailings.transitions import ALLOWED, OwnerAction, owner_actions, status_from_facts

NOW = timezone.now()


def mailing(**kwargs):
    defaults = {
        "start_at": NOW - timedelta(hours=1),
        "end_at": NOW + timedelta(days=1),
        "periodicity": Periodicity.DAILY,
    }
    return Mailing(**{**defaults, **kwargs})


@pytest.mark.parametrize(
    ("fields", "facts", "expected"),
    [
        ({}, {"has_active_run": False, "has_runs": False, "once_done": False}, MailingStatus.CREATED),
        ({}, {"has_active_run": True, "has_runs": True, "once_done": False}, MailingStatus.RUNNING),
        ({"paused_at": NOW}, {"has_active_run": True, "has_runs": True, "once_done": False}, MailingStatus.PAUSED),
        ({"cancelled_at": NOW, "paused_at": NOW}, {"has_active_run": True, "has_runs": True, "once_done": False},
         MailingStatus.CANCELLED),
        ({"periodicity": Periodicity.ONCE}, {"has_active_run": False, "has_runs": True, "once_done": True},
         MailingStatus.COMPLETED),
        ({"end_at": NOW - timedelta(minutes=1), "paused_at": NOW},
         {"has_active_run": False, "has_runs": True, "once_done": False}, MailingStatus.COMPLETED),
    ],
)  # fmt: skip
def test_status_from_facts(fields, facts, expected):
    assert status_from_facts(mailing(**fields), now=NOW, **facts) == expected


def test_every_status_has_its_owner_actions():
    assert set(ALLOWED) == set(MailingStatus)
    assert ALLOWED[MailingStatus.RUNNING] == (OwnerAction.PAUSE, OwnerAction.CANCEL)
    assert ALLOWED[MailingStatus.CANCELLED] == ()


@pytest.mark.django_db
def test_start_now_is_offered_only_before_the_start(user):
    future = mailing(owner=user, status=MailingStatus.CREATED, start_at=NOW + timedelta(days=1))
    assert owner_actions(future) == [OwnerAction.START_NOW, OwnerAction.CANCEL]
    due = mailing(owner=user, status=MailingStatus.CREATED, start_at=NOW - timedelta(seconds=1))
    assert owner_actions(due) == [OwnerAction.CANCEL]
    disabled = mailing(owner=user, status=MailingStatus.RUNNING, is_active=False)
    assert owner_actions(disabled) == []

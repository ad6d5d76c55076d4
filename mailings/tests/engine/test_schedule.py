"""next_run_at and the django-q2 wake-ups (engine/schedule.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from mailings import engine
from mailings.models import Mailing
from mailings.tests.engine.helpers import make


@pytest.mark.django_db
def test_deleting_a_mailing_leaves_nothing_scheduled(user):
    mailing = make(user, timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=2))
    engine.replan_mailing(mailing)
    assert Schedule.objects.filter(name=engine.wakeup_name(mailing.pk)).exists()
    pk = mailing.pk
    Mailing.objects.filter(owner=user).delete()  # the queryset delete a cascade makes
    assert not Mailing.objects.filter(pk=pk).exists()
    assert not Schedule.objects.filter(name=engine.wakeup_name(pk)).exists()
    assert Schedule.objects.filter(name=engine.DISPATCH_SCHEDULE).count() == 1

"""Each mailing keeps the wall clock of its own time zone: a daily 09:00
Europe/Moscow mailing and a weekly 09:00 America/New_York one, in the same
database and dispatched by the same code, while New York changes to summer
time (8 March 2026) and Moscow does not. The site's zone (Europe/London)
plays no part."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from mailings import engine
from mailings.models import Attempt, AttemptStatus, Mailing, Periodicity, Run
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

MOSCOW = ZoneInfo("Europe/Moscow")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone, *args):
    return datetime(*args, tzinfo=zone)


def test_slots_keep_each_mailings_own_wall_clock():
    moscow = Mailing(
        start_at=at(MOSCOW, 2026, 3, 2, 9),
        end_at=at(MOSCOW, 2026, 4, 1),
        periodicity=Periodicity.DAILY,
        time_zone="Europe/Moscow",
    )
    new_york = Mailing(
        start_at=at(NEW_YORK, 2026, 3, 2, 9),
        end_at=at(NEW_YORK, 2026, 4, 1),
        periodicity=Periodicity.WEEKLY,
        time_zone="America/New_York",
    )
    assert {engine.slot(moscow, k).astimezone(UTC).hour for k in range(30)} == {6}
    assert [engine.slot(new_york, k).astimezone(UTC).hour for k in range(4)] == [14, 13, 13, 13]
    assert {engine.slot(new_york, k).astimezone(NEW_YORK).hour for k in range(4)} == {9}
    # The same wall clock read in the site's zone would have moved New York's mailing.
    new_york.time_zone = "Europe/London"
    new_york.start_at = at(ZoneInfo("Europe/London"), 2026, 3, 2, 14)
    assert [engine.slot(new_york, k).astimezone(UTC).hour for k in range(4)] == [14, 14, 14, 14]


@pytest.mark.django_db
def test_moscow_daily_and_new_york_weekly_run_together_across_new_yorks_dst_change(smtp_server):
    def nine_oclock(zone, periodicity):
        """An owner in `zone` and their mailing at 09:00 there, from 2 to 17 March 2026."""
        owner = UserFactory(time_zone=zone.key)
        return MailingFactory(
            owner=owner,
            start_at=at(zone, 2026, 3, 2, 9),
            end_at=at(zone, 2026, 3, 17),
            periodicity=periodicity,
            time_zone=zone.key,
            clients=[ClientFactory(owner=owner)],
        )

    moscow = nine_oclock(MOSCOW, Periodicity.DAILY)
    new_york = nine_oclock(NEW_YORK, Periodicity.WEEKLY)
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        engine.replan_mailing(moscow)
        engine.replan_mailing(new_york)
    due_times = sorted(
        [at(MOSCOW, 2026, 3, day, 9) for day in range(2, 17)] + [at(NEW_YORK, 2026, 3, day, 9) for day in (2, 9, 16)]
    )
    for due in due_times:
        with time_machine.travel(due - timedelta(seconds=30), tick=False):
            assert engine.dispatch_due()["started"] == []  # never early
        with time_machine.travel(due + timedelta(seconds=20), tick=False):
            assert len(engine.dispatch_due()["started"]) == 1

    def slots(mailing, zone):
        runs = Run.objects.filter(mailing=mailing).order_by("scheduled_for")
        return [(r.scheduled_for.astimezone(zone).hour, r.scheduled_for.astimezone(UTC).hour) for r in runs]

    assert slots(moscow, MOSCOW) == [(9, 6)] * 15
    # 09:00 in New York all along: 14:00 UTC in winter time, 13:00 UTC after 8 March.
    assert slots(new_york, NEW_YORK) == [(9, 14), (9, 13), (9, 13)]
    assert len(smtp_server.messages) == 15 + 3


@pytest.mark.django_db
def test_the_mailing_form_reads_times_on_the_mailings_clock(client):
    owner = UserFactory(time_zone="Asia/Tokyo")
    message = MessageFactory(owner=owner)
    client_row = ClientFactory(owner=owner)
    client.force_login(owner)
    page = client.get(reverse("mailings:mailing_create")).content.decode()
    assert '<option value="Asia/Tokyo" selected>' in page  # the owner's zone by default
    data = {
        "message": message.pk,
        "time_zone": "America/New_York",
        "start_at": "2026-07-01T09:00",
        "end_at": "2026-07-30T09:00",
        "periodicity": "weekly",
        "clients": [client_row.pk],
    }
    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC), tick=False):
        response = client.post(reverse("mailings:mailing_create"), data)
    assert response.status_code == 302
    mailing = Mailing.objects.get(owner=owner)
    assert mailing.time_zone == "America/New_York"
    assert mailing.start_at == at(NEW_YORK, 2026, 7, 1, 9)
    # Editing shows the times again on the mailing's clock, not the viewer's.
    edit = client.get(reverse("mailings:mailing_update", args=[mailing.pk])).content.decode()
    assert 'value="2026-07-01T09:00"' in edit
    detail = client.get(reverse("mailings:mailing_detail", args=[mailing.pk])).content.decode()
    assert "1 Jul 2026, 22:00 JST" in detail  # read in the viewer's zone, named
    bad = client.post(reverse("mailings:mailing_create"), {**data, "time_zone": "Nowhere/Atlantis"})
    assert "time_zone" in bad.context["form"].errors


@pytest.mark.django_db
def test_a_mailing_defaults_to_its_owners_zone_and_csv_times_carry_the_offset(client):
    owner = UserFactory(time_zone="Asia/Tokyo")
    mailing = MailingFactory(owner=owner)
    assert mailing.time_zone == "Europe/London"  # the factory writes the model default
    from mailings.services import mailing_create

    created = mailing_create(
        owner=owner,
        message=mailing.message,
        start_at=timezone.now() + timedelta(days=1),
        end_at=timezone.now() + timedelta(days=2),
        periodicity=Periodicity.ONCE,
        clients=[ClientFactory(owner=owner)],
    )
    assert created.time_zone == "Asia/Tokyo"
    run = Run.objects.create(mailing=created, scheduled_for=created.start_at)
    Attempt.objects.create(
        mailing=created,
        run=run,
        email="a@example.org",
        status=AttemptStatus.SUCCESS,
        attempted_at=datetime(2026, 7, 1, 0, 30, tzinfo=UTC),
    )
    client.force_login(owner)
    csv = b"".join(client.get(reverse("mailings:mailing_attempts_export", args=[created.pk])).streaming_content)
    assert "2026-07-01T09:30:00+09:00" in csv.decode()

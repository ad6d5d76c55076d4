"""Mailing emails as a real SMTP server receives them (aiosmtpd): both parts,
placeholders per recipient, the deliverability headers, one-click unsubscribe
from the header's URL, suppression in the next run, hard bounces."""

from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client as HttpClient
from django.utils import timezone

from mailings import engine
from mailings.models import Client, Delivery, DeliveryState, Periodicity, Run, UnsubscribeSource
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db

BODY = '# Hello, {{ first_name|default:"friend" }}!\n\nYour address is **{{ email }}**.'


@pytest.fixture
def sender(user):
    user.sender_name = "Acme Ltd"
    user.reply_to_email = "sales@acme.example"
    user.reply_to_verified = True
    user.save()
    return user


def daily_mailing(owner, clients, start):
    message = MessageFactory(owner=owner, subject="Acme news", body=BODY)
    return MailingFactory(
        owner=owner,
        message=message,
        clients=clients,
        start_at=start,
        end_at=start + timedelta(days=10),
        periodicity=Periodicity.DAILY,
    )


def by_recipient(messages):
    return {parseaddr(m["To"])[1]: m for m in messages}


def test_each_recipient_gets_both_parts_filled_in_for_them_with_the_headers(smtp_server, sender, settings):
    settings.DEFAULT_FROM_EMAIL = "Mailsite <news@mailsite.example>"
    settings.SITE_URL = "https://mailsite.example"
    ann = ClientFactory(owner=sender, email="ann@example.org", full_name="Ann Lee")
    nameless = ClientFactory(owner=sender, email="x@example.org", full_name="")
    mailing = daily_mailing(sender, [ann, nameless], timezone.now() - timedelta(minutes=1))

    engine.replan_mailing(mailing)

    mails = by_recipient(smtp_server.messages)
    assert set(mails) == {"ann@example.org", "x@example.org"}
    for email, greeting in (("ann@example.org", "Hello, Ann!"), ("x@example.org", "Hello, friend!")):
        mail = mails[email]
        assert mail.get_content_type() == "multipart/alternative"
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        for part in (text, html):
            assert greeting in part
            assert email in part
        assert f"<h1>{greeting}</h1>" in html
        sender_address = mail["From"].addresses[0]
        assert (sender_address.display_name, sender_address.addr_spec) == ("Acme Ltd", "news@mailsite.example")
        assert mail["Reply-To"] == "sales@acme.example"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https, mailto = (u.strip(" <>") for u in mail["List-Unsubscribe"].split(","))
        assert https.startswith("https://mailsite.example/unsubscribe/")
        assert mailto.startswith("mailto:")
        assert https in text
        assert https in html
        assert mail["Message-ID"].endswith("@mailsite.example>")
    # Each recipient's link is their own.
    links = {m["List-Unsubscribe"] for m in mails.values()}
    assert len(links) == 2


def test_a_one_click_post_to_the_header_url_suppresses_that_client_in_the_next_run(smtp_server, sender):
    start = timezone.now() - timedelta(minutes=1)
    ann, bob, cy = (ClientFactory(owner=sender, email=f"{n}@example.org") for n in ("ann", "bob", "cy"))
    other_owners_client = ClientFactory(email="ann@example.org")
    mailing = daily_mailing(sender, [ann, bob, cy], start)
    engine.replan_mailing(mailing)
    assert len(smtp_server.messages) == 3

    url = by_recipient(smtp_server.messages)["bob@example.org"]["List-Unsubscribe"].split(",")[0].strip(" <>")
    response = HttpClient(enforce_csrf_checks=True).post(urlsplit(url).path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert set(Client.objects.filter(unsubscribed_at__isnull=False).values_list("pk", flat=True)) == {bob.pk}
    assert Client.objects.get(pk=bob.pk).unsubscribe_source == UnsubscribeSource.ONE_CLICK
    other_owners_client.refresh_from_db()
    assert other_owners_client.unsubscribed_at is None

    smtp_server.handler.messages.clear()
    with time_machine.travel(start + timedelta(days=1, minutes=2), tick=True):
        engine.dispatch_due()
    assert set(by_recipient(smtp_server.messages)) == {"ann@example.org", "cy@example.org"}
    run = Run.objects.filter(mailing=mailing).order_by("-scheduled_for").first()
    assert (run.sent_count, run.skipped_count, run.suppressed_count) == (2, 1, 1)
    skipped = Delivery.objects.get(run=run, state=DeliveryState.SKIPPED)
    assert skipped.client_id == bob.pk
    assert "one click" in skipped.last_reply


def test_mailbox_not_found_on_two_runs_marks_the_client_bounced(smtp_server, sender, settings):
    settings.MAILINGS_MAX_TRIES = 1  # the 451 fails at once instead of holding the run for retries
    start = timezone.now() - timedelta(minutes=1)
    gone, ok, busy = (ClientFactory(owner=sender, email=f"{n}@example.org") for n in ("gone", "ok", "busy"))
    mailing = daily_mailing(sender, [gone, ok, busy], start)
    smtp_server.fault("rcpt_550", match=["gone@example.org"])
    smtp_server.fault("rcpt_451", match=["busy@example.org"])

    engine.replan_mailing(mailing)
    gone.refresh_from_db()
    assert (gone.hard_bounces, gone.bounced_at) == (1, None)

    with time_machine.travel(start + timedelta(days=1, minutes=2), tick=True):
        engine.dispatch_due()
    gone.refresh_from_db()
    busy.refresh_from_db()
    assert gone.hard_bounces == 2
    assert gone.bounced_at is not None
    assert "5.1.1" in gone.bounce_reply
    assert (busy.hard_bounces, busy.bounced_at) == (0, None)  # temporary failures never suppress

    smtp_server.handler.rcpt_seen.clear()
    with time_machine.travel(start + timedelta(days=2, minutes=2), tick=True):
        engine.dispatch_due()
    assert "gone@example.org" not in smtp_server.handler.rcpt_seen
    run = Run.objects.filter(mailing=mailing).order_by("-scheduled_for").first()
    assert run.suppressed_count == 1

"""Demo clients, messages and mailings for customer@mailsite.test. Idempotent.

Future mailings are made through the services (so the scheduler hears of
them); one finished mailing with a run and its attempts is written as history,
so the detail page and the reports have something to show.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from mailings import selectors, services
from mailings.models import Attempt, AttemptStatus, Mailing, MailingStatus, Message, Periodicity, Run, RunStatus

CUSTOMER_EMAIL = "customer@mailsite.test"
DEMO_SENDER_NAME = "Northwind Knitwear"

DEMO_CLIENTS = [
    ("ann.smith@example.org", "Ann Smith", "Met at the spring fair"),
    ("bob.jones@example.org", "Bob Jones", ""),
    ("chloe.martin@example.org", "Chloé Martin", "Prefers French"),
    ("david.brown@example.org", "David Brown", ""),
    ("emma.wilson@example.org", "Emma Wilson", "Wholesale"),
    ("farid.haddad@example.org", "Farid Haddad", ""),
    ("grace.lee@example.org", "Grace Lee", "Newsletter since 2020"),
    ("hugo.garcia@example.org", "Hugo García", ""),
    ("isla.taylor@example.org", "Isla Taylor", ""),
    ("jonas.weber@example.org", "Jonas Weber", "Berlin office"),
    ("bounce@example.invalid", "Bounced Address", "Kept to show a failure"),
]

DEMO_MESSAGES = [
    (
        "Our autumn newsletter",
        (
            '## Hello, {{ first_name|default:"friend" }}!\n\n'
            "Here is what is new this autumn:\n\n"
            "- a **warmer** range of knitwear, made in our own workshop;\n"
            "- longer opening hours on Saturdays, from nine to six;\n"
            "- a reading corner with coffee for our regular customers.\n\n"
            "Come and see us, or reply to this email if you have a question.\n\n"
            "Best wishes,  \nThe team\n"
        ),
    ),
    (
        "Spring sale: 20% off",
        (
            'Hello, {{ full_name|default:"friend" }}.\n\n'
            "Our spring sale starts next week: 20% off everything.\n\nSee you soon!\n"
        ),
    ),
    (
        "Welcome to our list",
        'Hello, {{ first_name|default:"friend" }}.\n\nThanks for joining our list. We write once a week at most.\n',
    ),
]


def load(stdout):
    user = User.objects.filter(email=CUSTOMER_EMAIL).first()
    if user is None:
        return
    if not user.sender_name:
        user.sender_name = DEMO_SENDER_NAME
        user.save(update_fields=["sender_name"])
    for email, full_name, comment in DEMO_CLIENTS:
        if not selectors.client_email_taken(owner=user.pk, email=email):
            services.client_create(owner=user, email=email, full_name=full_name, comment=comment)
    messages = {}
    for subject, body in DEMO_MESSAGES:
        message = selectors.owned_messages(user).filter(subject=subject).first()
        messages[subject] = message or services.message_create(owner=user, subject=subject, body=body)
    clients = list(selectors.owned_clients(user).exclude(email__endswith=".invalid"))
    now = timezone.now().replace(second=0, microsecond=0)
    if not _has_mailing(user, messages["Spring sale: 20% off"]):
        services.mailing_create(
            owner=user,
            message=messages["Spring sale: 20% off"],
            start_at=now + timedelta(days=7),
            end_at=now + timedelta(days=8),
            periodicity=Periodicity.ONCE,
            clients=clients[:5],
        )
    if not _has_mailing(user, messages["Welcome to our list"]):
        services.mailing_create(
            owner=user,
            message=messages["Welcome to our list"],
            start_at=now + timedelta(days=1),
            end_at=now + timedelta(days=90),
            periodicity=Periodicity.WEEKLY,
            all_clients=True,
        )
    if not _has_mailing(user, messages["Our autumn newsletter"]):
        _history(user, messages["Our autumn newsletter"])
    stdout.write(f"  demo mailings for {CUSTOMER_EMAIL}: {selectors.owned_mailings(user).count()}")


def _has_mailing(user, message: Message) -> bool:
    return selectors.owned_mailings(user).filter(message=message).exists()


def _history(user, message: Message) -> None:
    """A mailing that ran three weeks ago: one run, every client tried once, one bounce."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=21)
    mailing = Mailing.objects.create(
        owner=user,
        message=message,
        start_at=start,
        end_at=start + timedelta(hours=1),
        periodicity=Periodicity.ONCE,
        status=MailingStatus.COMPLETED,
    )
    services.grant_owner_perms(mailing, user)
    clients = list(selectors.owned_clients(user))
    mailing.clients.set(clients)
    run = Run.objects.create(
        mailing=mailing,
        scheduled_for=start,
        status=RunStatus.FINISHED,
        started_at=start,
        finished_at=start + timedelta(minutes=2),
        recipients_count=len(clients),
    )
    attempts = []
    for i, client in enumerate(clients):
        bounced = client.email.endswith(".invalid")
        attempts.append(
            Attempt(
                mailing=mailing,
                run=run,
                client=client,
                email=client.email,
                attempted_at=start + timedelta(seconds=5 * i),
                status=AttemptStatus.FAILED if bounced else AttemptStatus.SUCCESS,
                smtp_code=550 if bounced else 250,
                server_reply="5.1.1 Recipient address rejected: domain not found" if bounced else "2.0.0 Ok: queued",
            )
        )
    Attempt.objects.bulk_create(attempts)
    failed = sum(1 for a in attempts if a.status == AttemptStatus.FAILED)
    run.sent_count = len(attempts) - failed
    run.failed_count = failed
    run.save(update_fields=["sent_count", "failed_count"])

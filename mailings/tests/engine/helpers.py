"""Mailings for the engine's tests."""

from datetime import timedelta

from django.utils import timezone

from mailings.models import Periodicity
from mailings.tests.factories import ClientFactory, MailingFactory


def make(user, start, end, periodicity=Periodicity.ONCE, n=2):
    """A mailing of `n` clients with this schedule."""
    clients = [ClientFactory(owner=user) for _ in range(n)]
    return MailingFactory(owner=user, start_at=start, end_at=end, periodicity=periodicity, clients=clients)


def make_mailing(user, n=3, **kwargs):
    """A mailing due a minute ago (or at `start_at`) to clients c0..c<n-1>@example.org."""
    clients = [ClientFactory(owner=user, email=f"c{i}@example.org", full_name=f"Client {i}") for i in range(n)]
    start = kwargs.pop("start_at", timezone.now() - timedelta(minutes=1))
    mailing = MailingFactory(owner=user, start_at=start, end_at=start + timedelta(days=30), clients=clients, **kwargs)
    return mailing, clients

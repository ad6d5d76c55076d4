"""The home page: its numbers always equal the database, the cache is dropped on
every change of the mailing domain, three random articles on each load."""

import re

import pytest

from blog.models import BlogPage
from home.stats import STATS_KEY, _drop_stats, home_stats
from mailings.models import Client, Mailing, MailingStatus
from mailings.services import mailing_disable
from mailings.signals import mailings_changed
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


def shown_numbers(client) -> dict[str, int]:
    html = client.get("/en/").content.decode()
    return {name: int(value) for name, value in re.findall(r'data-testid="stat-([a-z-]+)">(\d+)<', html)}


def database_numbers() -> dict[str, int]:
    """What the database says, computed the plain way."""
    emails = {c.email.lower() for m in Mailing.objects.all() for c in m.clients.all()}
    return {
        "mailings": Mailing.objects.count(),
        "active-mailings": Mailing.objects.filter(status=MailingStatus.RUNNING, is_active=True).count(),
        "unique-clients": len(emails),
    }


def test_numbers_follow_every_change_of_the_mailings(client, manager):
    assert shown_numbers(client) == {"mailings": 0, "active-mailings": 0, "unique-clients": 0}

    a, b, c = ClientFactory.create_batch(3)
    # The same address under another owner, and typed in capitals (a bulk import skips save()).
    same_as_a = Client.objects.bulk_create([Client(owner=b.owner, email=a.email.upper())])[0]
    first = MailingFactory(clients=[a, b])
    assert shown_numbers(client) == database_numbers() == {"mailings": 1, "active-mailings": 0, "unique-clients": 2}

    second = MailingFactory(clients=[same_as_a, c], status=MailingStatus.RUNNING)
    assert shown_numbers(client) == database_numbers() == {"mailings": 2, "active-mailings": 1, "unique-clients": 3}

    mailing_disable(mailing=second, by=manager, reason="spam")
    assert shown_numbers(client) == database_numbers() == {"mailings": 2, "active-mailings": 0, "unique-clients": 3}

    first.status = MailingStatus.RUNNING
    first.save()
    assert shown_numbers(client) == database_numbers() == {"mailings": 2, "active-mailings": 1, "unique-clients": 3}

    # The engine completes mailings with a bulk update, then sends mailings_changed.
    Mailing.objects.filter(pk=first.pk).update(status=MailingStatus.COMPLETED)
    mailings_changed.send(sender=Mailing)
    assert shown_numbers(client) == database_numbers() == {"mailings": 2, "active-mailings": 0, "unique-clients": 3}

    first.clients.remove(b)
    assert shown_numbers(client) == database_numbers() == {"mailings": 2, "active-mailings": 0, "unique-clients": 2}

    c.delete()
    assert shown_numbers(client) == database_numbers() == {"mailings": 2, "active-mailings": 0, "unique-clients": 1}

    second.delete()
    assert shown_numbers(client) == database_numbers() == {"mailings": 1, "active-mailings": 0, "unique-clients": 1}


def test_clients_in_no_mailing_are_not_counted(client):
    ClientFactory.create_batch(4)
    MailingFactory(clients=[ClientFactory()])
    assert shown_numbers(client)["unique-clients"] == 1


def test_numbers_are_cached_until_a_change(client, django_assert_num_queries):
    MailingFactory(clients=ClientFactory.create_batch(2))
    first = home_stats()
    # A write that sends no signal is not seen: the cache answers (the 5-minute limit is the safety net).
    Mailing.objects.update(status=MailingStatus.RUNNING)
    assert home_stats() == first
    mailings_changed.send(sender=Mailing)
    assert home_stats().active_mailings == 1


def test_cache_holds_plain_data(client):
    from django.core.cache import cache

    MailingFactory()
    client.get("/en/")
    assert cache.get(STATS_KEY) == {"mailings": 1, "active_mailings": 0, "unique_clients": 0}


def test_unique_clients_ignore_case():
    owner_client = ClientFactory(email="someone@example.org")
    shouting = Client.objects.bulk_create([Client(owner=owner_client.owner, email="x@example.org")])[0]
    Client.objects.filter(pk=shouting.pk).update(email="SOMEONE@EXAMPLE.ORG")
    MailingFactory(clients=[owner_client])
    MailingFactory(owner=owner_client.owner, clients=[Client.objects.get(pk=shouting.pk)])
    assert home_stats().unique_clients == 1


def article_titles(client) -> list[str]:
    html = client.get("/en/").content.decode()
    block = html.split('data-testid="random-articles"', 1)[1] if "random-articles" in html else ""
    return re.findall(r'class="stretched-link text-decoration-none">([^<]+)</a>', block)


def test_three_distinct_random_articles_that_change_between_loads(client, make_article):
    for _ in range(7):
        make_article()
    seen = set()
    for _ in range(15):
        titles = article_titles(client)
        assert len(titles) == 3
        assert len(set(titles)) == 3
        seen.add(frozenset(titles))
    assert len(seen) > 1
    assert set().union(*seen) <= set(BlogPage.objects.live().values_list("title", flat=True))


def test_fewer_articles_than_three_are_all_shown(client, make_article):
    make_article("Only one")
    make_article("And two")
    assert sorted(article_titles(client)) == ["And two", "Only one"]


def test_unpublished_and_deleted_articles_leave_the_choice(client, make_article):
    kept = [make_article() for _ in range(3)]
    gone = make_article("Gone soon")
    deleted = make_article("Deleted soon")
    article_titles(client)  # fills the cache of published articles
    gone.unpublish()
    deleted.delete()
    for _ in range(10):
        assert sorted(article_titles(client)) == sorted(a.title for a in kept)
    late = make_article("Published late")
    assert any("Published late" in article_titles(client) for _ in range(30))
    assert late.live


def test_links_for_visitors_and_for_customers(client, user):
    html = client.get("/en/").content.decode()
    assert 'data-testid="cta-login"' in html
    assert 'data-testid="cta-dashboard"' not in html
    client.force_login(user)
    html = client.get("/en/").content.decode()
    assert 'data-testid="cta-dashboard"' in html
    assert 'data-testid="cta-login"' not in html


def test_hero_and_sections_are_editable(client, home_page):
    home_page.hero_title = "Mail that arrives"
    home_page.hero_intro = "Our intro"
    home_page.sections = [("text_section", {"heading": "A section", "text": "<p>Section text</p>"})]
    home_page.save_revision().publish()
    html = client.get("/en/").content.decode()
    assert "Mail that arrives" in html
    assert "Our intro" in html
    assert "A section" in html
    assert "Section text" in html


def test_a_transaction_of_many_writes_drops_the_cache_once_more_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        owner_client = ClientFactory()
        ClientFactory.create_batch(5, owner=owner_client.owner)
        MailingFactory(owner=owner_client.owner, clients=[owner_client])
        home_stats()  # a request refilling the cache before the commit
    assert sum(callback is _drop_stats for callback in callbacks) == 1
    assert home_stats().unique_clients == 1

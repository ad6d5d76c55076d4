"""The two families of selectors: `*_for_user` (the admin: global permissions count)
and `owned_*` (the customer screens: object permissions only)."""

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm, remove_perm

from mailings import selectors
from mailings.models import Attempt, AttemptStatus, Run
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(user):
    client = ClientFactory(owner=user)
    mailing = MailingFactory(owner=user, clients=[client])
    run = Run.objects.create(mailing=mailing, scheduled_for=mailing.start_at)
    Attempt.objects.create(mailing=mailing, run=run, client=client, email=client.email, status=AttemptStatus.SUCCESS)
    return client, mailing


def owned_counts(viewer):
    return (
        selectors.owned_clients(viewer).count(),
        selectors.owned_messages(viewer).count(),
        selectors.owned_mailings(viewer).count(),
        selectors.owned_runs(viewer).count(),
        selectors.owned_attempts(viewer).count(),
    )


def test_the_owner_sees_their_objects_in_both_families(user, objects):
    assert owned_counts(user) == (1, 1, 1, 1, 1)
    assert selectors.clients_for_user(user).count() == 1
    assert selectors.attempts_for_user(user).count() == 1


def test_managers_and_superusers_see_all_in_the_admin_family_and_nothing_of_others_on_the_screens(
    manager, superuser, objects
):
    for viewer in (manager, superuser):
        assert selectors.mailings_for_user(viewer).count() == 1
        assert selectors.clients_for_user(viewer).count() == 1
        assert owned_counts(viewer) == (0, 0, 0, 0, 0)


def test_a_manager_who_owns_something_sees_just_that_on_the_screens(manager, objects):
    MessageFactory(owner=manager)
    assert selectors.owned_messages(manager).count() == 1
    assert selectors.messages_for_user(manager).count() == 2


def test_perm_narrows_the_owned_set(user, objects):
    client, _mailing = objects
    other = ClientFactory(owner=user)
    remove_perm("mailings.delete_client", user, other)
    assert set(selectors.owned_clients(user, perm="delete")) == {client}
    assert set(selectors.owned_clients(user)) == {client, other}


def test_group_object_permissions_count_on_the_screens(other_user, objects):
    client, _mailing = objects
    team = Group.objects.create(name="Team")
    other_user.groups.add(team)
    assign_perm("mailings.view_client", team, client)
    assert list(selectors.owned_clients(other_user)) == [client]
    assert not selectors.owned_clients(other_user, perm="change").exists()


def test_anonymous_users_own_nothing(objects):
    from django.contrib.auth.models import AnonymousUser

    assert owned_counts(AnonymousUser()) == (0, 0, 0, 0, 0)
    assert owned_counts(None) == (0, 0, 0, 0, 0)


def test_search_matches_email_and_name(user):
    ClientFactory(owner=user, email="ann@example.org", full_name="Ann Smith")
    ClientFactory(owner=user, email="bob@example.org", full_name="Robert")
    qs = selectors.owned_clients(user)
    assert [c.email for c in selectors.client_search(qs, "SMITH")] == ["ann@example.org"]
    assert [c.email for c in selectors.client_search(qs, "bob@")] == ["bob@example.org"]
    assert selectors.client_search(qs, "  ").count() == 2

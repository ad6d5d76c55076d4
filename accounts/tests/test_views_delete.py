"""Account deletion: confirmed with the password; removes the user's data and nobody else's."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import user_delete
from accounts.tests.factories import DEFAULT_PASSWORD
from mailings.models import (
    Attempt,
    AttemptStatus,
    Client,
    Delivery,
    Mailing,
    MailingUserObjectPermission,
    Message,
    Run,
)
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db


def world_of(owner):
    """Clients, a spare message, and a mailing that has run once with its history."""
    clients = ClientFactory.create_batch(2, owner=owner)
    MessageFactory(owner=owner)
    mailing = MailingFactory(owner=owner, clients=clients)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now(), recipients_count=2)
    for client in clients:
        Delivery.objects.create(run=run, client=client, email=client.email, state="sent")
        Attempt.objects.create(
            mailing=mailing, run=run, client=client, email=client.email, status=AttemptStatus.SUCCESS, smtp_code=250
        )
    return mailing


def counts(owner_id):
    return {
        "clients": Client.objects.filter(owner_id=owner_id).count(),
        "messages": Message.objects.filter(owner_id=owner_id).count(),
        "mailings": Mailing.objects.filter(owner_id=owner_id).count(),
        "runs": Run.objects.filter(mailing__owner_id=owner_id).count(),
        "deliveries": Delivery.objects.filter(run__mailing__owner_id=owner_id).count(),
        "attempts": Attempt.objects.filter(mailing__owner_id=owner_id).count(),
        "object_perms": MailingUserObjectPermission.objects.filter(user_id=owner_id).count(),
    }


def test_deletion_removes_the_users_data_and_nobody_elses(user_client, user, other_user):
    world_of(user)
    world_of(other_user)
    before_other = counts(other_user.pk)
    assert counts(user.pk) == before_other
    assert before_other["attempts"] == 2
    user_id = user.pk

    response = user_client.post(reverse("accounts:delete"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"
    assert not User.objects.filter(pk=user_id).exists()
    assert set(counts(user_id).values()) == {0}
    assert counts(other_user.pk) == before_other
    assert User.objects.filter(pk=other_user.pk).exists()
    assert SESSION_KEY not in user_client.session
    assert user_client.get(reverse("mailings:dashboard")).status_code == 302


def test_deletion_needs_the_right_password(user_client, user):
    world_of(user)
    response = user_client.post(reverse("accounts:delete"), {"password": "wrong"})
    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    assert User.objects.filter(pk=user.pk).exists()
    assert counts(user.pk)["mailings"] == 1


def test_a_message_protected_by_a_mailing_goes_with_its_owner(user):
    """Mailing.message is PROTECT; deleting the account still takes both (the mailings go first)."""
    mailing = world_of(user)
    user_delete(user=user)
    assert not Mailing.objects.filter(pk=mailing.pk).exists()
    assert not Message.objects.filter(pk=mailing.message_id).exists()


def test_deletion_removes_the_avatar_file(user, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    user.avatar.save("me.png", ContentFile(b"not checked here"))
    name = user.avatar.name
    storage = user.avatar.storage
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user)
    assert not storage.exists(name)


def test_delete_page_needs_login(client):
    assert client.get(reverse("accounts:delete")).status_code == 302

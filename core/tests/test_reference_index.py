"""Wagtail's reference index keeps to content: our records (core.models.NotContent)
are never indexed, so their saves and deletes pay nothing for it."""

import importlib
import uuid

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import resolve
from wagtail.models import Page, ReferenceIndex

from accounts.models import ApiToken
from blog.models import BlogIndexPage, BlogPage
from core.models import NotContent, OutgoingEmail
from home.models import HomePage
from mailings.models import Attempt, Client, Delivery, Mailing, Message, RateCounter, Run
from mailings.services.clients import client_create, client_delete
from mailings.tests.factories import MailingFactory

RECORDS = [Client, Message, Mailing, Run, Delivery, Attempt, RateCounter, ApiToken, OutgoingEmail]


def test_our_records_are_not_indexable_and_pages_are():
    resolve("/admin/")  # loads the admin's hooks, where ModelAdmin registers its models
    for model in RECORDS:
        assert not ReferenceIndex.model_is_indexable(model), model
        assert not ReferenceIndex.is_indexed(model), model
    for model in (Page, HomePage, BlogIndexPage, BlogPage):
        assert ReferenceIndex.model_is_indexable(model), model
        assert ReferenceIndex.is_indexed(model), model


def test_every_model_of_ours_with_a_foreign_key_opts_out():
    """A new model in these apps must choose: NotContent, or a reason to be indexed."""
    content = {HomePage, BlogIndexPage, BlogPage}
    for app_label in ("accounts", "core", "mailings", "api"):
        for model in apps.get_app_config(app_label).get_models():
            if model in content or model._meta.proxy:
                continue
            indexable = ReferenceIndex.model_is_indexable(model)
            assert not indexable or issubclass(model, NotContent), f"{model._meta.label} is indexed"


@pytest.mark.django_db
def test_saving_and_deleting_clients_and_mailings_writes_no_index_row(user):
    before = ReferenceIndex.objects.count()
    client = client_create(owner=user, email="reader@example.org", full_name="Reader")
    client.full_name = "Another reader"
    client.save()
    MailingFactory(owner=user, clients=[client])
    assert ReferenceIndex.objects.count() == before
    client_delete(client=client)
    assert ReferenceIndex.objects.count() == before


@pytest.mark.django_db
def test_the_migration_drops_stale_rows_of_records_and_keeps_pages(user):
    client = client_create(owner=user, email="old@example.org")
    home = HomePage.objects.get()

    def row(obj):
        return ReferenceIndex(
            content_type=ContentType.objects.get_for_model(obj),
            base_content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            to_content_type=ContentType.objects.get_for_model(user),
            to_object_id=str(user.pk),
            model_path="owner",
            content_path="owner",
            content_path_hash=uuid.uuid4(),
        )

    ReferenceIndex.objects.bulk_create([row(client), row(home)])
    migration = importlib.import_module("core.migrations.0003_drop_reference_index_rows_of_records")
    migration.drop_rows(apps, None)

    client_type = ContentType.objects.get_for_model(Client)
    assert not ReferenceIndex.objects.filter(base_content_type=client_type).exists()
    assert ReferenceIndex.objects.filter(base_content_type=ContentType.objects.get_for_model(home)).exists()

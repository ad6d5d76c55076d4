"""Roles as data: the exact permissions of the two groups, `set_role`, and the demo users."""

import importlib
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from wagtail.models import GroupCollectionPermission, GroupPagePermission

from accounts import demo
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MANAGERS = {
    "wagtailadmin.access_admin",
    "accounts.view_user",
    "accounts.block_user",
    "mailings.view_client",
    "mailings.view_message",
    "mailings.view_mailing",
    "mailings.disable_mailing",
    "mailings.view_run",
    "mailings.view_attempt",
}
CONTENT_EDITORS = {"wagtailadmin.access_admin"}
CONTENT_EDITORS_PAGES = {("/home/", "add_page"), ("/home/", "change_page"), ("/home/", "publish_page")}
CONTENT_EDITORS_COLLECTIONS = {
    ("Root", "wagtailimages.add_image"),
    ("Root", "wagtailimages.change_image"),
    ("Root", "wagtailimages.choose_image"),
    ("Root", "wagtailimages.delete_image"),
}


def model_perms(name):
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def page_perms(name):
    return {
        (gpp.page.url_path, gpp.permission.codename)
        for gpp in GroupPagePermission.objects.filter(group__name=name).select_related("page", "permission")
    }


def collection_perms(name):
    return {
        (gcp.collection.name, f"{gcp.permission.content_type.app_label}.{gcp.permission.codename}")
        for gcp in GroupCollectionPermission.objects.filter(group__name=name).select_related(
            "collection", "permission__content_type"
        )
    }


def snapshot():
    return {
        name: (model_perms(name), page_perms(name), collection_perms(name)) for name in ("Managers", "Content editors")
    }


def test_the_two_groups_have_exactly_these_permissions():
    assert model_perms("Managers") == MANAGERS
    assert page_perms("Managers") == set()
    assert collection_perms("Managers") == set()
    assert model_perms("Content editors") == CONTENT_EDITORS
    assert page_perms("Content editors") == CONTENT_EDITORS_PAGES
    assert collection_perms("Content editors") == CONTENT_EDITORS_COLLECTIONS


def test_managers_never_add_change_or_delete_mailing_models():
    writes = {p for p in MANAGERS if p.split(".")[1].startswith(("add_", "change_", "delete_"))}
    assert writes == set()


def test_running_the_roles_migration_again_changes_nothing():
    before = snapshot()
    migration = importlib.import_module("accounts.migrations.0002_roles")
    state = MigrationExecutor(connection).loader.project_state()
    migration.create_roles(state.apps, connection.schema_editor())
    migration.create_roles(state.apps, connection.schema_editor())
    assert snapshot() == before
    assert Group.objects.filter(name__in=["Managers", "Content editors"]).count() == 2


def test_role_permissions_work_for_a_member(manager, editor):
    assert manager.has_perm("mailings.view_mailing")
    assert manager.has_perm("accounts.block_user")
    assert not manager.has_perm("mailings.change_mailing")
    assert manager.has_perm("wagtailadmin.access_admin")
    assert editor.has_perm("wagtailadmin.access_admin")
    assert not editor.has_perm("mailings.view_mailing")


@pytest.mark.parametrize(
    ("role", "groups"),
    [("manager", ["Managers"]), ("editor", ["Content editors"]), ("customer", [])],
)
def test_set_role_gives_exactly_one_role(role, groups):
    user = UserFactory(email="someone@example.com")
    user.groups.add(Group.objects.get(name="Managers"), Group.objects.get(name="Content editors"))
    unrelated = Group.objects.create(name="Newsletter team")
    user.groups.add(unrelated)
    out = io.StringIO()
    call_command("set_role", "SomeOne@example.com", role, stdout=out)
    assert f"is now {role}" in out.getvalue()
    assert sorted(user.groups.exclude(pk=unrelated.pk).values_list("name", flat=True)) == groups
    assert user.groups.filter(pk=unrelated.pk).exists()


def test_set_role_refuses_an_unknown_user_or_role():
    with pytest.raises(CommandError, match="No user"):
        call_command("set_role", "ghost@example.com", "manager")
    UserFactory(email="someone@example.com")
    with pytest.raises(CommandError):
        call_command("set_role", "someone@example.com", "admin")


def test_demo_users_have_one_role_each_and_loading_twice_changes_nothing():
    demo.load(io.StringIO())
    demo.load(io.StringIO())
    assert User.objects.filter(email__endswith="@mailsite.test").count() == 4
    roles = {
        u.email: (u.is_superuser, sorted(u.groups.values_list("name", flat=True)), u.is_verified)
        for u in User.objects.filter(email__endswith="@mailsite.test")
    }
    assert roles == {
        "admin@mailsite.test": (True, [], True),
        "customer@mailsite.test": (False, [], True),
        "manager@mailsite.test": (False, ["Managers"], True),
        "editor@mailsite.test": (False, ["Content editors"], True),
    }
    assert User.objects.get(email="manager@mailsite.test").check_password("demo-manager")


def test_the_roles_fixture_gives_what_the_migration_gives():
    migrated = snapshot()
    roles = ["Managers", "Content editors"]
    Group.objects.filter(name__in=roles).delete()  # their page and collection rows go with them
    assert not GroupPagePermission.objects.filter(group__name__in=roles).exists()
    assert not GroupCollectionPermission.objects.filter(group__name__in=roles).exists()
    call_command("loaddata", "roles", stdout=io.StringIO())
    assert snapshot() == migrated
    # Loading again over the same rows changes nothing: natural keys, no duplicates.
    call_command("loaddata", "roles", stdout=io.StringIO())
    assert snapshot() == migrated
    assert GroupPagePermission.objects.filter(group__name="Content editors").count() == len(CONTENT_EDITORS_PAGES)

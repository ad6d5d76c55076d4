"""Role x URL matrix over every admin URL of the mailings and users admin and
Wagtail's own user-editing URLs: the exact status for each role, and which rows
each list shows.

How the admin refuses:
- anonymous and customers (no `wagtailadmin.access_admin`): Wagtail redirects
  to its login page (302);
- our admin URLs answer 403 to anyone lacking the permission (create, edit and
  delete answer 403 to everyone: the admin is read-only for these models);
- Wagtail's own Settings → Users refuses non-superusers the Wagtail way: a 302
  to the dashboard with an error message.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from mailings.models import Attempt, AttemptStatus, Run
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

ROLES = ["anonymous", "customer", "editor", "manager", "superuser"]
FORBIDDEN = 403
OK = 200


@pytest.fixture
def data(db, user, other_user):
    client_a = ClientFactory(owner=user)
    client_b = ClientFactory(owner=other_user)
    mailing_a = MailingFactory(owner=user, clients=[client_a])
    mailing_b = MailingFactory(owner=other_user, clients=[client_b])
    disabled = MailingFactory(owner=other_user, is_active=False, disabled_reason="Spam complaints")
    run = Run.objects.create(mailing=mailing_a, scheduled_for=timezone.now() - timedelta(hours=1))
    attempt = Attempt.objects.create(
        mailing=mailing_a,
        run=run,
        client=client_a,
        email=client_a.email,
        status=AttemptStatus.SUCCESS,
        smtp_code=250,
        server_reply="250 OK",
    )
    blocked = UserFactory(is_blocked=True, blocked_reason="Abuse")
    return {
        "mailing": mailing_a,
        "mailing_b": mailing_b,
        "disabled": disabled,
        "client": client_a,
        "client_b": client_b,
        "message": mailing_a.message,
        "message_b": mailing_b.message,
        "message_c": disabled.message,
        "extra_message": MessageFactory(owner=other_user),
        "attempt": attempt,
        "target": other_user,
        "blocked": blocked,
    }


@pytest.fixture
def as_role(request, client):
    """A test client logged in as the given role (anonymous: not logged in)."""

    def login(role):
        if role != "anonymous":
            fixture = {"customer": "user"}.get(role, role)
            client.force_login(request.getfixturevalue(fixture))
        return client

    return login


def url(name, obj=None):
    if obj is None:
        return reverse(name)
    return reverse(name, args=[obj.pk])


# (url name, object key in `data` or None, expected status per role)
# Roles: anonymous, customer, editor, manager, superuser.
LOGIN = "login"  # 302 to the Wagtail login page
HOME = "home"  # 302 to the Wagtail dashboard (Wagtail's own refusal)
MATRIX = [
    # Mailings
    ("mailings_mailing_modeladmin_index", None, [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_mailing_modeladmin_inspect", "mailing", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_mailing_modeladmin_history", "mailing", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_mailing_modeladmin_create", None, [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_mailing_modeladmin_edit", "mailing", [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_mailing_modeladmin_delete", "mailing", [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_mailing_modeladmin_disable", "mailing", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_mailing_modeladmin_enable", "disabled", [LOGIN, LOGIN, 403, 200, 200]),
    # Clients
    ("mailings_client_modeladmin_index", None, [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_client_modeladmin_inspect", "client", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_client_modeladmin_history", "client", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_client_modeladmin_create", None, [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_client_modeladmin_edit", "client", [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_client_modeladmin_delete", "client", [LOGIN, LOGIN, 403, 403, 403]),
    # Messages
    ("mailings_message_modeladmin_index", None, [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_message_modeladmin_inspect", "message", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_message_modeladmin_history", "message", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_message_modeladmin_create", None, [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_message_modeladmin_edit", "message", [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_message_modeladmin_delete", "message", [LOGIN, LOGIN, 403, 403, 403]),
    # Attempts
    ("mailings_attempt_modeladmin_index", None, [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_attempt_modeladmin_inspect", "attempt", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_attempt_modeladmin_history", "attempt", [LOGIN, LOGIN, 403, 200, 200]),
    ("mailings_attempt_modeladmin_create", None, [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_attempt_modeladmin_edit", "attempt", [LOGIN, LOGIN, 403, 403, 403]),
    ("mailings_attempt_modeladmin_delete", "attempt", [LOGIN, LOGIN, 403, 403, 403]),
    # Users (the managers' read-only list)
    ("accounts_user_modeladmin_index", None, [LOGIN, LOGIN, 403, 200, 200]),
    ("accounts_user_modeladmin_inspect", "target", [LOGIN, LOGIN, 403, 200, 200]),
    ("accounts_user_modeladmin_history", "target", [LOGIN, LOGIN, 403, 200, 200]),
    ("accounts_user_modeladmin_create", None, [LOGIN, LOGIN, 403, 403, 403]),
    ("accounts_user_modeladmin_edit", "target", [LOGIN, LOGIN, 403, 403, 403]),
    ("accounts_user_modeladmin_delete", "target", [LOGIN, LOGIN, 403, 403, 403]),
    ("accounts_user_modeladmin_block", "target", [LOGIN, LOGIN, 403, 200, 200]),
    ("accounts_user_modeladmin_unblock", "blocked", [LOGIN, LOGIN, 403, 200, 200]),
    # Wagtail's own Settings → Users: superusers only
    ("wagtailusers_users:index", None, [LOGIN, LOGIN, HOME, HOME, 200]),
    ("wagtailusers_users:add", None, [LOGIN, LOGIN, HOME, HOME, 200]),
    ("wagtailusers_users:edit", "target", [LOGIN, LOGIN, HOME, HOME, 200]),
    ("wagtailusers_users:delete", "target", [LOGIN, LOGIN, HOME, HOME, 200]),
    ("wagtailusers_users:history", "target", [LOGIN, LOGIN, HOME, HOME, 200]),
    # The site history report where the audit trail shows
    ("wagtailadmin_reports:site_history", None, [LOGIN, LOGIN, 200, 200, 200]),
]

CASES = [
    pytest.param(name, key, role, expected[i], id=f"{name}-{role}")
    for name, key, expected in MATRIX
    for i, role in enumerate(ROLES)
]


def assert_status(response, expected, path):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('wagtailadmin_login')}?next={path}"
    elif expected == HOME:
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(("name", "key", "role", "expected"), CASES)
def test_get_matrix(as_role, data, name, key, role, expected):
    path = url(name, data[key] if key else None)
    response = as_role(role).get(path)
    assert_status(response, expected, path)


WRITE_URLS = [
    ("mailings_mailing_modeladmin_create", None),
    ("mailings_mailing_modeladmin_edit", "mailing"),
    ("mailings_mailing_modeladmin_delete", "mailing"),
    ("mailings_client_modeladmin_create", None),
    ("mailings_client_modeladmin_edit", "client"),
    ("mailings_client_modeladmin_delete", "client"),
    ("mailings_message_modeladmin_create", None),
    ("mailings_message_modeladmin_edit", "extra_message"),
    ("mailings_message_modeladmin_delete", "extra_message"),
    ("mailings_attempt_modeladmin_delete", "attempt"),
    ("accounts_user_modeladmin_create", None),
    ("accounts_user_modeladmin_edit", "target"),
    ("accounts_user_modeladmin_delete", "target"),
]


@pytest.mark.parametrize("role", ["manager", "superuser"])
@pytest.mark.parametrize(("name", "key"), WRITE_URLS)
def test_post_to_write_urls_is_refused_and_changes_nothing(as_role, data, role, name, key):
    from accounts.models import User
    from mailings.models import Client, Mailing, Message

    def snapshot():
        return (
            list(Mailing.objects.order_by("pk").values()),
            list(Client.objects.order_by("pk").values()),
            list(Message.objects.order_by("pk").values()),
            Attempt.objects.count(),
            list(User.objects.order_by("pk").values("pk", "email", "first_name", "is_active")),
        )

    c = as_role(role)
    before = snapshot()
    response = c.post(
        url(name, data[key] if key else None),
        {"email": "new@example.org", "subject": "Hacked", "body": "x", "first_name": "Hacked"},
    )
    assert response.status_code == FORBIDDEN
    assert snapshot() == before


def test_manager_post_to_wagtail_user_edit_is_refused(as_role, data):
    target = data["target"]
    response = as_role("manager").post(
        reverse("wagtailusers_users:edit", args=[target.pk]),
        {"email": "taken@example.org", "first_name": "Hacked", "last_name": "X", "is_active": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    target.refresh_from_db()
    assert target.email != "taken@example.org"
    assert target.first_name != "Hacked"


def test_manager_post_to_wagtail_user_delete_is_refused(as_role, data):
    from accounts.models import User

    response = as_role("manager").post(reverse("wagtailusers_users:delete", args=[data["target"].pk]))
    assert response.status_code == 302
    assert User.objects.filter(pk=data["target"].pk).exists()


LIST_ROWS = [
    ("mailings_mailing_modeladmin_index", ["mailing", "mailing_b", "disabled"]),
    ("mailings_client_modeladmin_index", ["client", "client_b"]),
    ("mailings_message_modeladmin_index", ["message", "message_b", "message_c", "extra_message"]),
    ("mailings_attempt_modeladmin_index", ["attempt"]),
]


@pytest.mark.parametrize("role", ["manager", "superuser"])
@pytest.mark.parametrize(("name", "keys"), LIST_ROWS)
def test_lists_show_every_row_to_managers_and_superusers(as_role, data, role, name, keys):
    response = as_role(role).get(reverse(name))
    assert response.status_code == OK
    shown = {obj.pk for obj in response.context["object_list"]}
    assert shown == {data[key].pk for key in keys}
    # Read-only: no add, edit or delete buttons anywhere.
    html = response.content.decode()
    assert "/create/" not in html
    assert "/edit/" not in html
    assert "/delete/" not in html


@pytest.mark.parametrize("role", ["manager", "superuser"])
def test_users_list_shows_every_user(as_role, data, role, request):
    from accounts.models import User

    response = as_role(role).get(reverse("accounts_user_modeladmin_index"))
    assert {u.pk for u in response.context["object_list"]} == set(User.objects.values_list("pk", flat=True))


def test_inspect_of_a_missing_row_is_404_for_a_manager(as_role, data):
    response = as_role("manager").get(reverse("mailings_mailing_modeladmin_inspect", args=[999999]))
    assert response.status_code == 404


def test_manager_cannot_block_a_superuser_or_themselves(as_role, manager, superuser):
    c = as_role("manager")
    assert c.get(reverse("accounts_user_modeladmin_block", args=[superuser.pk])).status_code == FORBIDDEN
    assert c.get(reverse("accounts_user_modeladmin_block", args=[manager.pk])).status_code == FORBIDDEN


@pytest.mark.parametrize(
    ("role", "menu_shown"),
    [("editor", False), ("manager", True), ("superuser", True)],
)
def test_mailings_menu_only_for_roles_that_may_see_mailings(as_role, data, role, menu_shown):
    response = as_role(role).get(reverse("wagtailadmin_home"))
    assert response.status_code == OK
    html = response.content.decode()
    assert (reverse("mailings_mailing_modeladmin_index") in html) is menu_shown
    assert (reverse("accounts_user_modeladmin_index") in html) is menu_shown
    # Wagtail's Settings → Users: superusers only.
    assert (reverse("wagtailusers_users:index") in html) is (role == "superuser")
    # The audit trail (site history) is in everybody's menu: Wagtail puts it
    # under Reports for page users, we add it for managers.
    assert reverse("wagtailadmin_reports:site_history") in html


def test_content_editors_see_pages_and_images(as_role, data):
    from wagtail.models import Page

    home = Page.objects.get(depth=2)
    c = as_role("editor")
    html = c.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("wagtailimages:index") in html
    assert c.get(reverse("wagtailimages:index")).status_code == OK
    assert c.get(reverse("wagtailadmin_explore", args=[home.pk])).status_code == OK
    assert c.get(reverse("wagtailadmin_pages:edit", args=[home.pk])).status_code == OK


def test_object_permissions_alone_do_not_open_the_admin_lists(as_role, editor, data):
    """An editor who also owns a mailing (guardian object permissions only)
    works on the customer screens: the admin lists need the model-level view
    permission, and the Mailings menu stays hidden."""
    own = MailingFactory(owner=editor)
    c = as_role("editor")
    assert c.get(reverse("mailings_mailing_modeladmin_index")).status_code == FORBIDDEN
    assert c.get(reverse("mailings_mailing_modeladmin_inspect", args=[own.pk])).status_code == FORBIDDEN
    html = c.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("mailings_mailing_modeladmin_index") not in html

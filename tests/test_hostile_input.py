"""No 500 on hostile input (issue 11, item 9): NUL bytes, huge integers, bad
dates, overlong strings and wrong types sent to every form and every list
filter of the customer screens and the admin. Runs on SQLite (`make test`) and
on PostgreSQL (the .ci/run pass).

The field and parameter names are read from the pages themselves (form
fields, filter links), so a new field or filter is covered without editing
this file."""

import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from mailings.models import Attempt, AttemptStatus, Run
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
# One value per kind of attack on a form field.
HOSTILE = [
    "\x00",
    "a\x00b",
    HUGE,
    "-" + HUGE,
    "1e400",
    "2020-13-45",
    "2020-02-30T25:61",
    "notadate",
    "x" * 5000,
    "ü" * 300,
    "<script>alert(1)</script>",
    "\r\nBcc: evil@example.org",
    ["1", "2"],  # a list where one value is expected
]
# Fewer for query-string parameters: there are many more of them.
HOSTILE_PARAMS = ["\x00", HUGE, "2020-13-45", "x" * 3000, ["1", "abc"], "-1"]


class FormFields(HTMLParser):
    """Names and current values of the fields of the page's POST forms."""

    def __init__(self):
        super().__init__()
        self.in_post_form = False
        self.fields: dict[str, list[str]] = {}
        self.links: list[str] = []
        self.get_params: set[str] = set()
        self.form_method = ""
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form_method = (a.get("method") or "get").lower()
        elif tag == "a" and a.get("href", "").startswith("?"):
            self.links.append(a["href"])
        elif tag in {"input", "select", "textarea"} and a.get("name"):
            if self.form_method != "post":
                self.get_params.add(a["name"])
                return
            name = a["name"]
            self.fields.setdefault(name, [])
            if tag == "input":
                kind = a.get("type", "text")
                if kind in {"checkbox", "radio"}:
                    if "checked" in a:
                        self.fields[name].append(a.get("value", "on"))
                elif kind != "file":
                    self.fields[name].append(a.get("value") or "")
            elif tag == "select":
                self._select = name
            else:
                self._textarea = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.form_method = ""
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] = [data.strip()]


def read_page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    parser = FormFields()
    parser.feed(response.content.decode())
    return parser


def assert_no_500(response, what):
    assert response.status_code < 500, f"{response.status_code} for {what!r}"


def param_names(parser):
    names = set(parser.get_params)
    for link in parser.links:
        names |= {k for k, _ in parse_qsl(urlsplit(link).query, keep_blank_values=True)}
    return names | {"q", "page", "p", "o"}


def hammer_get(client, url, parser):
    for name in sorted(param_names(parser)):
        for value in HOSTILE_PARAMS:
            assert_no_500(client.get(url, {name: value}), f"GET {url} {name}={value!r}"[:200])


def hammer_post(client, url, baseline, *, files=None, skip=()):
    """Each field in turn gets each hostile value, the others keep their good value."""
    baseline = {k: v for k, v in baseline.items() if k != "csrfmiddlewaretoken"}
    for name in sorted(baseline):
        if name in skip:
            continue
        for value in HOSTILE:
            data = {**baseline, name: value}
            assert_no_500(client.post(url, {**data, **(files or {})}), f"POST {url} {name}={value!r}"[:200])
    for value in HOSTILE:
        data = dict.fromkeys(baseline, value)
        assert_no_500(client.post(url, {**data, **(files or {})}), f"POST {url} all={value!r}"[:200])


@pytest.fixture
def world(user):
    """A customer with one of everything, so every page and form has something to show."""
    client = ClientFactory(owner=user, email="ann@example.org")
    message = MessageFactory(owner=user)
    mailing = MailingFactory(owner=user, message=message)
    mailing.clients.set([client])
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now() - timedelta(hours=1))
    Attempt.objects.create(
        mailing=mailing,
        run=run,
        client=client,
        email=client.email,
        status=AttemptStatus.FAILED,
        server_reply="550 no such user",
    )
    return {"client": client, "message": message, "mailing": mailing, "run": run}


def customer_pages(world):
    c, m, ml = world["client"], world["message"], world["mailing"]
    return [
        reverse("mailings:dashboard"),
        reverse("mailings:client_list"),
        reverse("mailings:message_list"),
        reverse("mailings:mailing_list"),
        reverse("mailings:mailing_detail", args=[ml.pk]),
        reverse("mailings:mailing_attempts", args=[ml.pk]),
        reverse("mailings:reports"),
        reverse("mailings:client_update", args=[c.pk]),
        reverse("mailings:message_update", args=[m.pk]),
        reverse("mailings:mailing_update", args=[ml.pk]),
    ]


def test_customer_list_filters(user_client, world):
    for url in customer_pages(world):
        hammer_get(user_client, url, read_page(user_client, url))
    for url in [
        reverse("mailings:client_search"),
        reverse("mailings:client_export"),
        reverse("mailings:mailing_attempts_export", args=[world["mailing"].pk]),
    ]:
        for name in ["q", "status", "page"]:
            for value in HOSTILE_PARAMS:
                assert_no_500(user_client.get(url, {name: value}), f"GET {url} {name}={value!r}"[:200])


GOOD = {
    "mailings:client_create": {"email": "new@example.org", "full_name": "New", "comment": ""},
    "mailings:message_create": {"subject": "Hello", "body": "Body"},
}


@pytest.mark.parametrize(
    "page",
    [
        "mailings:client_create",
        "mailings:client_update",
        "mailings:message_create",
        "mailings:message_update",
        "mailings:mailing_create",
        "mailings:mailing_update",
    ],
)
def test_customer_forms(user_client, world, page):
    obj = {"client": world["client"], "message": world["message"], "mailing": world["mailing"]}
    kind = page.split(":")[1].split("_")[0]
    url = reverse(page, args=[obj[kind].pk] if page.endswith("update") else [])
    parser = read_page(user_client, url)
    baseline = {k: v[0] if len(v) == 1 else v for k, v in parser.fields.items()}
    baseline.update(GOOD.get(page, {}))
    if kind == "mailing":
        start = timezone.localtime() + timedelta(days=1)
        baseline.update(
            message=str(world["message"].pk),
            clients=[str(world["client"].pk)],
            start_at=f"{start:%Y-%m-%dT%H:%M}",
            end_at=f"{start + timedelta(days=2):%Y-%m-%dT%H:%M}",
            periodicity="once",
        )
    hammer_post(user_client, url, baseline)


def test_client_import_with_hostile_cells(user_client, world):
    url = reverse("mailings:client_import")
    rows = [f"{v}@example.org,{v},{v}" for v in HOSTILE if isinstance(v, str)]
    content = ("email,full_name,comment\n" + "\n".join(rows) + "\nok@example.org,a\x00b,c\x00\n").encode()
    upload = io.BytesIO(content)
    upload.name = "clients.csv"
    response = user_client.post(url, {"file": upload, "on_existing": "update"})
    assert response.status_code == 200
    assert response.context["report"].error_count >= 1
    hammer_post(user_client, url, {"on_existing": "skip"})


def test_customer_one_off_actions(user_client, world):
    run = world["run"]
    for value in HOSTILE:
        url = reverse("mailings:run_retry_failed", args=[run.pk])
        assert_no_500(user_client.post(url, {"next": value}), f"retry next={value!r}")
    for name in ["client_delete", "message_delete", "mailing_delete"]:
        url = reverse(f"mailings:{name}", args=[HUGE[:18]])
        assert_no_500(user_client.post(url), url)


@pytest.mark.parametrize(
    "page",
    [
        "accounts:signup",
        "accounts:login",
        "accounts:resend_verification",
        "accounts:password_reset",
        "accounts:profile",
        "accounts:email_change",
        "accounts:password_change",
        "accounts:delete",
    ],
)
def test_account_forms(client, user, smtp_server, page, settings):
    settings.AXES_ENABLED = False
    if page not in {"accounts:signup", "accounts:login", "accounts:resend_verification", "accounts:password_reset"}:
        client.force_login(user)
    url = reverse(page)
    parser = read_page(client, url)
    baseline = {k: v[0] if len(v) == 1 else v for k, v in parser.fields.items()}
    hammer_post(client, url, baseline, skip={"avatar"})


# --- The admin ------------------------------------------------------------------------------

ADMIN_LISTS = [
    "/admin/mailings/mailing/",
    "/admin/mailings/client/",
    "/admin/mailings/message/",
    "/admin/mailings/attempt/",
    "/admin/accounts/user/",
]


@pytest.mark.parametrize("url", ADMIN_LISTS)
@pytest.mark.parametrize("role", ["superuser", "manager"])
def test_admin_list_filters(client, world, url, role, request):
    client.force_login(request.getfixturevalue(role))
    parser = read_page(client, url)
    assert parser.links, "the list page has filter links"
    hammer_get(client, url, parser)


def test_the_reproduced_admin_filters(client, manager, world):
    client.force_login(manager)
    for url in [
        "/admin/mailings/mailing/?owner__id__exact=abc",
        "/admin/mailings/mailing/?start_at__gte=notadate",
        "/admin/mailings/mailing/?is_active__exact=maybe",
        "/admin/accounts/user/?groups__id__exact=abc",
        "/admin/mailings/client/?created_at__gte=2020-13-45",
    ]:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        if response.redirect_chain:  # back to the list without the bad filter, saying why
            assert "not valid" in response.content.decode(), url


def test_admin_forms(client, superuser, manager, world):
    user = world["mailing"].owner
    client.force_login(manager)
    for url in [
        f"/admin/mailings/mailing/disable/{world['mailing'].pk}/",
        f"/admin/accounts/user/block/{user.pk}/",
    ]:
        parser = read_page(client, url)
        baseline = {k: v[0] if len(v) == 1 else v for k, v in parser.fields.items()}
        hammer_post(client, url, baseline)
    url = reverse("wagtailadmin_account")
    parser = read_page(client, url)
    baseline = {k: v[0] if len(v) == 1 else v for k, v in parser.fields.items()}
    hammer_post(client, url, baseline, skip={"avatar-avatar"})


def test_wagtail_user_forms_with_a_case_variant_duplicate(client, superuser):
    UserFactory(email="taken@example.org")
    other = UserFactory(email="other@example.org")
    client.force_login(superuser)
    response = client.post(
        reverse("wagtailusers_users:edit", args=[other.pk]),
        {"email": "Taken@Example.org", "first_name": "A", "last_name": "B", "is_active": "on"},
    )
    assert response.status_code == 200  # the form with an error
    other.refresh_from_db()
    assert other.email == "other@example.org"
    response = client.post(
        reverse("wagtailusers_users:add"),
        {
            "email": "TAKEN@example.org",
            "first_name": "A",
            "last_name": "B",
            "password1": "a-Strong-passw0rd!",
            "password2": "a-Strong-passw0rd!",
            "is_active": "on",
        },
    )
    assert response.status_code == 200


def test_hostile_paths_and_ids(user_client, world):
    anonymous = DjangoClient()
    for path in [
        f"/app/mailings/{HUGE}/",
        f"/app/clients/{HUGE}/edit/",
        f"/admin/mailings/mailing/inspect/{HUGE}/",
        "/accounts/verify/%00/",
        "/accounts/password/reset/%00/%00/",
        "/blog/?page=%00",
        "/?q=%00",
    ]:
        assert_no_500(user_client.get(path), path)
        assert_no_500(anonymous.get(path), path)
    assert re.match(r"^\d+$", HUGE)

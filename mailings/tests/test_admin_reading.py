"""Issue 14's admin and site details: the compact mailing list, branding, the
dashboard for managers, the daily quota, and the small things a user notices."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from mailings.models import Attempt, AttemptStatus, Run
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db

MAILING_INDEX = "mailings_mailing_modeladmin_index"
USER_INDEX = "accounts_user_modeladmin_index"


def test_mailing_list_has_few_columns_an_owner_search_and_an_actions_menu(client, manager):
    owner = UserFactory(email="a-very-long-owner-address-for-the-list@example.org")
    mailing = MailingFactory(owner=owner)
    mailing.is_active = False
    mailing.save(update_fields=["is_active"])
    client.force_login(manager)
    html = client.get(reverse(MAILING_INDEX)).content.decode()
    assert 'title="a-very-long-owner-address-for-the-list@example.org"' in html
    assert "mailsite-truncate" in html
    assert "Created</span> · <strong>disabled</strong>" in html
    assert 'data-controller="w-dropdown"' in html  # the row's actions are one menu
    assert "owner__id__exact" not in html  # no owner filter listing every owner
    found = client.get(reverse(MAILING_INDEX), {"q": "a-very-long-owner"})
    assert [m.pk for m in found.context["object_list"]] == [mailing.pk]


def test_admin_says_mailsite_on_login_and_dashboard(client, manager):
    assert "Sign in to Mailsite" in client.get(reverse("wagtailadmin_login")).content.decode()
    client.force_login(manager)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Welcome to Mailsite" in html
    assert "localhost" not in html.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert "- Mailsite</title>" in html


def test_managers_get_no_pages_search_and_editors_do(client, manager, editor):
    client.force_login(manager)
    assert 'data-testid="pages-search"' not in client.get(reverse("wagtailadmin_home")).content.decode()
    client.force_login(editor)
    assert 'data-testid="pages-search"' in client.get(reverse("wagtailadmin_home")).content.decode()


def test_the_managers_totals_panel_has_the_services_daily_chart(client, manager, user):
    mailing = MailingFactory(owner=user)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now())
    Attempt.objects.create(mailing=mailing, run=run, email="x@example.org", status=AttemptStatus.SUCCESS)
    client.force_login(manager)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert 'data-chart="chart-service-daily-data"' in html
    assert "1 sent, 0 failed attempts" in html
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/css/admin.css" in html


def test_a_manager_sets_a_daily_quota_and_sees_who_is_at_it(client, manager, user):
    client.force_login(manager)
    url = reverse("accounts_user_modeladmin_quota", args=[user.pk])
    assert client.post(url, {"daily_quota": "2"}).status_code == 302
    user.refresh_from_db()
    assert user.daily_quota == 2
    mailing = MailingFactory(owner=user)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now())
    for c in ClientFactory.create_batch(2, owner=user):
        Attempt.objects.create(mailing=mailing, run=run, client=c, email=c.email, status=AttemptStatus.SUCCESS)
    html = client.get(reverse(USER_INDEX), {"q": user.email}).content.decode()
    assert "2 / 2 · at quota" in html
    client.post(url, {"daily_quota": ""})
    user.refresh_from_db()
    assert user.daily_quota is None
    assert "2 / unlimited" in client.get(reverse(USER_INDEX), {"q": user.email}).content.decode()
    assert client.post(url, {"daily_quota": "-1"}).status_code == 400


def test_a_customer_cannot_set_quotas(client, user, other_user):
    client.force_login(user)
    url = reverse("accounts_user_modeladmin_quota", args=[other_user.pk])
    response = client.post(url, {"daily_quota": "5"})
    assert response.status_code in (302, 403)
    other_user.refresh_from_db()
    assert other_user.daily_quota is None


def test_enabling_asks_without_a_double_full_stop(client, superuser, user):
    mailing = MailingFactory(owner=user)
    mailing.is_active = False
    mailing.disabled_reason = "Spam complaints."
    mailing.save()
    client.force_login(superuser)
    html = client.get(reverse("mailings_mailing_modeladmin_enable", args=[mailing.pk])).content.decode()
    assert "Disabled because: Spam complaints. Enable it again?" in html
    assert ".." not in html.split("Disabled because", 1)[1].split("</p>", 1)[0]


def test_site_logout_says_so(user_client):
    response = user_client.post(reverse("accounts:logout"), follow=True)
    assert "You are logged out." in response.content.decode()


def test_navbar_shows_the_name_and_the_admin_link_only_for_admin_users(client, manager):
    customer = UserFactory(first_name="Anna", last_name="Petrova")
    client.force_login(customer)
    html = client.get(reverse("mailings:dashboard")).content.decode()
    assert ">Anna Petrova</a>" in html
    assert 'id="nav-admin"' not in html
    nameless = UserFactory(first_name="", last_name="")
    client.force_login(nameless)
    assert f">{nameless.email}</a>" in client.get(reverse("mailings:dashboard")).content.decode()
    client.force_login(manager)
    assert 'id="nav-admin"' in client.get(reverse("accounts:profile")).content.decode()


def test_the_client_pickers_search_box_has_a_visible_label(user_client):
    html = user_client.get(reverse("mailings:mailing_create")).content.decode()
    assert '<label class="form-label small mb-1" for="client-filter">Search clients</label>' in html


@pytest.mark.parametrize(("rows", "expected"), [(1, "1 bad row."), (2, "2 bad rows.")])
def test_import_report_counts_bad_rows_in_words(user_client, rows, expected):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = "email,full name\nok@example.org,Ok\n" + "".join(f"not-an-email-{i},Bad\n" for i in range(rows))
    upload = SimpleUploadedFile("c.csv", body.encode(), content_type="text/csv")
    response = user_client.post(reverse("mailings:client_import"), {"file": upload, "on_existing": "skip"})
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.endswith(expected) for m in messages), messages

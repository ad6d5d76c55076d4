"""Disable / enable in the Wagtail admin, the audit trail they write, the
mailing inspect view and the service totals panel."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from mailings import engine, selectors, services
from mailings.models import Attempt, AttemptStatus, Mailing, MailingStatus, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory


@pytest.fixture
def changed(monkeypatch):
    """Records the mailings handed to the engine's `replan_mailing` (a no-op
    until the sending engine fills it in)."""
    calls = []
    monkeypatch.setattr(engine, "replan_mailing", calls.append)
    return calls


@pytest.fixture
def running_mailing(user):
    clients = [ClientFactory(owner=user) for _ in range(3)]
    mailing = MailingFactory(
        owner=user,
        clients=clients,
        status=MailingStatus.RUNNING,
        start_at=timezone.now() - timedelta(hours=1),
        end_at=timezone.now() + timedelta(days=30),
    )
    run = Run.objects.create(
        mailing=mailing,
        scheduled_for=mailing.start_at,
        status=RunStatus.SENDING,
        recipients_count=3,
        sent_count=1,
        failed_count=1,
    )
    Attempt.objects.create(
        mailing=mailing, run=run, client=clients[0], email=clients[0].email, status=AttemptStatus.SUCCESS
    )
    Attempt.objects.create(
        mailing=mailing,
        run=run,
        client=clients[1],
        email=clients[1].email,
        status=AttemptStatus.FAILED,
        smtp_code=550,
        server_reply="550 No such user",
    )
    return mailing


def logs(instance, action):
    return list(ModelLogEntry.objects.for_instance(instance).filter(action=action))


def disable_url(mailing):
    return reverse("mailings_mailing_modeladmin_disable", args=[mailing.pk])


def enable_url(mailing):
    return reverse("mailings_mailing_modeladmin_enable", args=[mailing.pk])


def inspect_url(mailing):
    return reverse("mailings_mailing_modeladmin_inspect", args=[mailing.pk])


def test_manager_disables_a_running_mailing_with_a_reason(
    client, manager, user, running_mailing, changed, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    page = client.get(disable_url(running_mailing))
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(disable_url(running_mailing), {"reason": "Spam complaints from recipients"})
    assert response.status_code == 302
    assert response["Location"] == inspect_url(running_mailing)

    running_mailing.refresh_from_db()
    assert running_mailing.is_active is False
    assert running_mailing.disabled_by == manager
    assert running_mailing.disabled_reason == "Spam complaints from recipients"
    assert running_mailing.disabled_at is not None
    # The engine is told after the commit, so it stops the run in flight.
    assert len(callbacks) == 1
    assert [m.pk for m in changed] == [running_mailing.pk]

    # Exactly one audit entry: who, what, why.
    [entry] = ModelLogEntry.objects.for_instance(running_mailing)
    assert entry.action == "mailsite.mailing.disable"
    assert entry.user == manager
    assert entry.data == {"reason": "Spam complaints from recipients"}
    assert "Spam complaints from recipients" in entry.message

    # The owner sees it disabled, with the reason, through the same selector
    # their screens use.
    seen = selectors.mailings_for_user(user).get(pk=running_mailing.pk)
    assert seen.is_active is False
    assert seen.disabled_reason == "Spam complaints from recipients"

    inspect = client.get(inspect_url(running_mailing))
    assert "Spam complaints from recipients" in inspect.content.decode()


def test_disable_needs_a_reason(client, manager, running_mailing, changed, django_capture_on_commit_callbacks):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(disable_url(running_mailing), {"reason": "   "})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    running_mailing.refresh_from_db()
    assert running_mailing.is_active is True
    assert changed == []
    assert not ModelLogEntry.objects.for_instance(running_mailing).exists()


def test_enable_writes_one_log_entry_and_tells_the_engine(
    client, manager, running_mailing, changed, django_capture_on_commit_callbacks
):
    services.mailing_disable(mailing=running_mailing, by=manager, reason="Checking")
    client.force_login(manager)
    assert client.get(enable_url(running_mailing)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(enable_url(running_mailing))
    assert response.status_code == 302
    running_mailing.refresh_from_db()
    assert running_mailing.is_active is True
    assert running_mailing.disabled_reason == ""
    assert [m.pk for m in changed] == [running_mailing.pk]
    assert len(logs(running_mailing, "mailsite.mailing.enable")) == 1
    assert len(logs(running_mailing, "mailsite.mailing.disable")) == 1


def test_disabling_a_disabled_mailing_changes_nothing(client, manager, running_mailing):
    services.mailing_disable(mailing=running_mailing, by=manager, reason="First")
    client.force_login(manager)
    response = client.post(disable_url(running_mailing), {"reason": "Second"})
    assert response.status_code == 302
    running_mailing.refresh_from_db()
    assert running_mailing.disabled_reason == "First"
    assert len(logs(running_mailing, "mailsite.mailing.disable")) == 1


def test_enabling_an_active_mailing_changes_nothing(client, manager, running_mailing):
    client.force_login(manager)
    assert client.post(enable_url(running_mailing)).status_code == 302
    assert not ModelLogEntry.objects.for_instance(running_mailing).exists()


def test_service_logs_on_every_path(manager, running_mailing):
    """Commands and the engine call the service too: the log is written there."""
    services.mailing_disable(mailing=running_mailing, by=manager, reason="From a command")
    services.mailing_enable(mailing=running_mailing, by=None)
    actions = list(
        ModelLogEntry.objects.for_instance(running_mailing).order_by("timestamp", "id").values_list("action", "user")
    )
    assert actions == [("mailsite.mailing.disable", manager.pk), ("mailsite.mailing.enable", None)]


def test_audit_trail_shows_in_object_history_and_site_history(client, manager, editor, running_mailing):
    services.mailing_disable(mailing=running_mailing, by=manager, reason="Phishing content")
    client.force_login(manager)
    history = client.get(reverse("mailings_mailing_modeladmin_history", args=[running_mailing.pk]))
    assert history.status_code == 200
    assert "Mailing disabled: Phishing content" in history.content.decode()

    report = client.get(reverse("wagtailadmin_reports:site_history"))
    assert report.status_code == 200
    html = report.content.decode()
    assert "Mailing disabled: Phishing content" in html
    # The entry links to the mailing's inspect view.
    assert inspect_url(running_mailing) in html

    # Content editors may open the report, but see no mailing entries.
    client.force_login(editor)
    report = client.get(reverse("wagtailadmin_reports:site_history"))
    assert report.status_code == 200
    assert "Phishing content" not in report.content.decode()


def test_inspect_shows_message_recipients_runs_totals_and_attempts(client, manager, running_mailing):
    client.force_login(manager)
    response = client.get(inspect_url(running_mailing))
    assert response.status_code == 200
    ctx = response.context
    assert ctx["message"] == running_mailing.message
    assert ctx["recipients_count"] == 3
    assert ctx["totals"] == {"runs": 1, "recipients": 3, "sent": 1, "failed": 1}
    assert [a.smtp_code for a in ctx["latest_attempts"]] == [550, None]
    html = response.content.decode()
    assert running_mailing.message.subject in html
    assert "550 No such user" in html
    # Disable is offered; edit and delete are not.
    assert disable_url(running_mailing) in html
    assert "/edit/" not in html
    assert "/delete/" not in html


def _add_runs(mailing, n):
    for i in range(n):
        run = Run.objects.create(
            mailing=mailing, scheduled_for=timezone.now() + timedelta(days=i + 1), recipients_count=1, sent_count=1
        )
        client = mailing.clients.first()
        Attempt.objects.create(mailing=mailing, run=run, client=client, email=client.email, status="success")


def test_inspect_queries_do_not_grow_with_runs_and_attempts(
    client, manager, running_mailing, django_assert_num_queries
):
    client.force_login(manager)
    client.get(inspect_url(running_mailing))  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        client.get(inspect_url(running_mailing))
    _add_runs(running_mailing, 15)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(inspect_url(running_mailing))
    assert response.context["totals"]["runs"] == 16


def test_mailing_list_queries_do_not_grow_with_rows(client, manager, user, django_assert_num_queries):
    MailingFactory(owner=user)
    client.force_login(manager)
    index = reverse("mailings_mailing_modeladmin_index")
    client.get(index)
    with CaptureQueriesContext(connection) as few:
        client.get(index)
    for _ in range(10):
        MailingFactory(owner=user)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(index)
    assert len(response.context["object_list"]) == 11


def test_mailing_list_filters(client, manager, user, other_user, running_mailing):
    disabled = MailingFactory(owner=other_user)
    services.mailing_disable(mailing=disabled, by=manager, reason="x")
    client.force_login(manager)
    index = reverse("mailings_mailing_modeladmin_index")

    def rows(**params):
        return {m.pk for m in client.get(index, params).context["object_list"]}

    assert rows(is_active__exact="0") == {disabled.pk}
    assert rows(status__exact="running") == {running_mailing.pk}
    assert rows(owner__id__exact=str(other_user.pk)) == {disabled.pk}
    assert rows(periodicity__exact="once") == {disabled.pk, running_mailing.pk}
    assert rows(q=user.email) == {running_mailing.pk}


# --- Dashboard panel -------------------------------------------------------------------


def test_service_totals_panel_for_managers(client, manager, running_mailing, other_user):
    MailingFactory(owner=other_user, is_active=False)
    run = running_mailing.runs.get()
    old = timezone.now() - timedelta(days=10)
    Attempt.objects.create(mailing=running_mailing, run=run, email="old@example.org", status="failed", attempted_at=old)
    Attempt.objects.create(
        mailing=running_mailing,
        run=run,
        email="older@example.org",
        status="success",
        attempted_at=timezone.now() - timedelta(days=40),
    )
    client.force_login(manager)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    assert [p.name for p in response.context["panels"]].count("mailsite_service_totals") == 1
    from mailings.admin_views import service_totals

    totals = service_totals(manager)
    assert totals == {
        "mailings": 2,
        "active_mailings": 1,
        "disabled_mailings": 1,
        "clients": 3,
        "sent_today": 1,
        "failed_today": 1,
        "sent_30_days": 1,
        "failed_30_days": 2,
    }
    assert 'data-total="failed_30_days">2<' in response.content.decode()


@pytest.mark.parametrize(("role", "shown"), [("editor", False), ("manager", True), ("superuser", True)])
def test_service_totals_panel_only_for_managers_and_superusers(db, client, request, role, shown):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    names = [p.name for p in response.context["panels"]]
    assert ("mailsite_service_totals" in names) is shown


def test_service_totals_take_a_fixed_number_of_queries(manager, user, django_assert_num_queries):
    from mailings.admin_views import service_totals

    manager.has_perm("mailings.view_mailing")  # the user's permission cache
    with django_assert_num_queries(3):
        service_totals(manager)
    for _ in range(5):
        MailingFactory(owner=user, clients=[ClientFactory(owner=user)])
    with django_assert_num_queries(3):
        assert service_totals(manager)["mailings"] == 5


def test_admin_home_queries_do_not_grow_with_data(client, manager, user):
    client.force_login(manager)
    home = reverse("wagtailadmin_home")
    client.get(home)
    with CaptureQueriesContext(connection) as few:
        client.get(home)
    for _ in range(5):
        MailingFactory(owner=user, clients=[ClientFactory(owner=user)])
    with CaptureQueriesContext(connection) as many:
        response = client.get(home)
    assert 'data-total="mailings">5<' in response.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)


def test_disabled_mailing_is_not_due(manager, running_mailing):
    """What the engine reads: a disabled mailing is out of the due set."""
    services.mailing_disable(mailing=running_mailing, by=manager, reason="Stop")
    assert not Mailing.objects.filter(pk=running_mailing.pk, is_active=True).exists()

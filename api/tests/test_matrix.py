"""Role x URL matrix of the API: the exact status for every role on every
endpoint and action, like mailings/tests/test_admin_matrix.py for the admin.

Roles: customer A (owns every object below), customer B, a manager, a content
editor, anonymous, a blocked user's token, a revoked token. How the API refuses:
- no or bad credentials (anonymous, blocked user, revoked token): 401, even on
  the public schema when a bad token is sent;
- another owner's object: 404, never a 403 that would confirm it exists;
- a role that may not do this at all (customers on managers' actions, managers
  on writes): 403.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.tests.factories import UserFactory
from api.tests.conftest import bearer
from mailings.models import Attempt, AttemptStatus, Run
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db

ROLES = ["owner", "other", "manager", "editor", "anonymous", "blocked", "revoked"]


@pytest.fixture
def data(user):
    client = ClientFactory(owner=user)
    mailing = MailingFactory(owner=user, clients=[client])
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now() - timedelta(hours=1))
    attempt = Attempt.objects.create(
        mailing=mailing, run=run, client=client, email=client.email, status=AttemptStatus.FAILED
    )
    start = timezone.now() + timedelta(days=1)
    return {
        "client": client,
        "message": mailing.message,
        "spare_message": MessageFactory(owner=user),
        "mailing": mailing,
        "disabled": MailingFactory(owner=user, is_active=False, disabled_reason="Spam"),
        "run": run,
        "attempt": attempt,
        "customer": user,
        "target": UserFactory(),
        "blocked_target": UserFactory(is_blocked=True, blocked_reason="Abuse"),
        "times": {"start_at": start.isoformat(), "end_at": (start + timedelta(days=1)).isoformat()},
    }


def _api(request, role):
    if role == "anonymous":
        return APIClient()
    if role == "revoked":
        api = APIClient()
        issued = services.api_token_create(user=request.getfixturevalue("user"), name="old")
        services.api_token_revoke(token=issued.token)
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
        return api
    if role == "blocked":
        return bearer(UserFactory(is_blocked=True, blocked_reason="Abuse"))
    fixture = {"owner": "user", "other": "other_user"}.get(role, role)
    return bearer(request.getfixturevalue(fixture))


def _c(d):
    return f"/api/v1/clients/{d['client'].pk}/"


def _m(d):
    return f"/api/v1/messages/{d['message'].pk}/"


def _ml(d):
    return f"/api/v1/mailings/{d['mailing'].pk}/"


def _u(d):
    return f"/api/v1/users/{d['customer'].pk}/"


# (name, method, url(data), body(data)): expected status for ROLES in order.
UNAUTH = (401, 401, 401)
MATRIX = [
    ("clients list", "get", lambda d: "/api/v1/clients/", None, (200, 200, 200, 200, *UNAUTH)),
    ("client detail", "get", _c, None, (200, 404, 200, 404, *UNAUTH)),
    ("client create", "post", lambda d: "/api/v1/clients/", lambda d: {"email": "n@example.org"},
     (201, 201, 403, 201, *UNAUTH)),
    ("client update", "patch", _c, lambda d: {"full_name": "X"}, (200, 404, 403, 404, *UNAUTH)),
    ("client replace", "put", _c, lambda d: {"email": "p@example.org"}, (200, 404, 403, 404, *UNAUTH)),
    ("client delete", "delete", _c, None, (204, 404, 403, 404, *UNAUTH)),
    ("clients bulk", "post", lambda d: "/api/v1/clients/bulk/", lambda d: {"clients": [{"email": "b@example.org"}]},
     (200, 200, 403, 200, *UNAUTH)),
    ("messages list", "get", lambda d: "/api/v1/messages/", None, (200, 200, 200, 200, *UNAUTH)),
    ("message detail", "get", _m, None, (200, 404, 200, 404, *UNAUTH)),
    ("message preview", "get", lambda d: _m(d) + f"preview/?client={d['client'].pk}", None,
     (200, 404, 200, 404, *UNAUTH)),
    ("message create", "post", lambda d: "/api/v1/messages/", lambda d: {"subject": "S", "body": "B"},
     (201, 201, 403, 201, *UNAUTH)),
    ("message update", "patch", _m, lambda d: {"subject": "X"}, (200, 404, 403, 404, *UNAUTH)),
    ("message replace", "put", _m, lambda d: {"subject": "S", "body": "B"}, (200, 404, 403, 404, *UNAUTH)),
    ("message delete", "delete", lambda d: f"/api/v1/messages/{d['spare_message'].pk}/", None,
     (204, 404, 403, 404, *UNAUTH)),
    ("message delete in use", "delete", _m, None, (400, 404, 403, 404, *UNAUTH)),
    ("mailings list", "get", lambda d: "/api/v1/mailings/", None, (200, 200, 200, 200, *UNAUTH)),
    ("mailing detail", "get", _ml, None, (200, 404, 200, 404, *UNAUTH)),
    ("mailing create", "post", lambda d: "/api/v1/mailings/", lambda d: {"message": d["message"].pk, **d["times"]},
     (201, 400, 403, 400, *UNAUTH)),
    ("mailing update", "patch", _ml, lambda d: {"periodicity": "daily"}, (200, 404, 403, 404, *UNAUTH)),
    ("mailing replace", "put", _ml, lambda d: {"message": d["message"].pk, **d["times"]},
     (200, 404, 403, 404, *UNAUTH)),
    ("mailing delete", "delete", _ml, None, (204, 404, 403, 404, *UNAUTH)),
    ("mailing start now", "post", lambda d: _ml(d) + "start-now/", lambda d: {}, (200, 404, 403, 404, *UNAUTH)),
    ("mailing pause (created: 409)", "post", lambda d: _ml(d) + "pause/", lambda d: {}, (409, 404, 403, 404, *UNAUTH)),
    ("mailing resume (created: 409)", "post", lambda d: _ml(d) + "resume/", lambda d: {},
     (409, 404, 403, 404, *UNAUTH)),
    ("mailing cancel", "post", lambda d: _ml(d) + "cancel/", lambda d: {}, (200, 404, 403, 404, *UNAUTH)),
    ("mailing disable", "post", lambda d: _ml(d) + "disable/", lambda d: {"reason": "Spam"},
     (403, 403, 200, 403, *UNAUTH)),
    ("mailing enable", "post", lambda d: f"/api/v1/mailings/{d['disabled'].pk}/enable/", lambda d: {},
     (403, 403, 200, 403, *UNAUTH)),
    ("runs list", "get", lambda d: "/api/v1/runs/", None, (200, 200, 200, 200, *UNAUTH)),
    ("run detail", "get", lambda d: f"/api/v1/runs/{d['run'].pk}/", None, (200, 404, 200, 404, *UNAUTH)),
    ("run retry failed", "post", lambda d: f"/api/v1/runs/{d['run'].pk}/retry-failed/", lambda d: {},
     (200, 404, 403, 404, *UNAUTH)),
    ("attempts list", "get", lambda d: "/api/v1/attempts/", None, (200, 200, 200, 200, *UNAUTH)),
    ("attempt detail", "get", lambda d: f"/api/v1/attempts/{d['attempt'].pk}/", None, (200, 404, 200, 404, *UNAUTH)),
    ("reports", "get", lambda d: "/api/v1/reports/", None, (200, 200, 200, 200, *UNAUTH)),
    ("users list", "get", lambda d: "/api/v1/users/", None, (403, 403, 200, 403, *UNAUTH)),
    ("user detail", "get", _u, None, (403, 403, 200, 403, *UNAUTH)),
    ("user block", "post", lambda d: f"/api/v1/users/{d['target'].pk}/block/", lambda d: {"reason": "Abuse"},
     (403, 403, 200, 403, *UNAUTH)),
    ("user unblock", "post", lambda d: f"/api/v1/users/{d['blocked_target'].pk}/unblock/", lambda d: {},
     (403, 403, 200, 403, *UNAUTH)),
    ("schema", "get", lambda d: "/api/v1/schema/", None, (200, 200, 200, 200, 200, 401, 401)),
    ("docs", "get", lambda d: "/api/v1/docs/", None, (200, 200, 200, 200, 200, 401, 401)),
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "url", "body", "expected"), MATRIX, ids=[row[0] for row in MATRIX])
def test_matrix(request, data, role, name, method, url, body, expected):
    api = _api(request, role)
    args = {"data": body(data), "format": "json"} if body else {}
    response = getattr(api, method)(url(data), **args)
    assert response.status_code == expected[ROLES.index(role)], response.content[:300]


def test_the_matrix_covers_every_documented_operation():
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    documented = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    covered = set()
    fake = {k: type("O", (), {"pk": 1})() for k in ("client", "message", "spare_message", "mailing", "disabled")}
    fake |= {k: type("O", (), {"pk": 1})() for k in ("run", "attempt", "customer", "target", "blocked_target")}
    fake["times"] = {}
    for _, method, url, _, _ in MATRIX:
        path = url(fake).split("?")[0].replace("/1/", "/{id}/")
        covered.add((method, path))
    assert documented - covered == set()

"""The OpenAPI schema validates, and every documented operation answers as documented."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from mailings.models import Attempt, AttemptStatus, Run
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/clients/bulk/" in out.read_text()


def test_schema_and_docs_are_public_and_docs_use_no_inline_script_or_cdn(client):
    schema = client.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Mailsite API"
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    assert all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "js/api-docs.js" in html
    assert "swagger-ui-bundle.js" in html
    assert " style=" not in html
    assert "http://" not in html
    assert "https://" not in html
    assert 'data-schema-url="/api/v1/schema/"' in html


def test_the_docs_static_files_exist(client):
    from django.contrib.staticfiles import finders

    for path in [
        "js/api-docs.js",
        "css/api-docs.css",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ]:
        assert finders.find(path), path


@pytest.fixture
def objects(user, other_user):
    client = ClientFactory(owner=user)
    mailing = MailingFactory(owner=user, clients=[client])
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now() - timedelta(hours=1))
    attempt = Attempt.objects.create(
        mailing=mailing, run=run, client=client, email=client.email, status=AttemptStatus.SUCCESS
    )
    return {
        "clients": client,
        "messages": mailing.message,
        "mailings": mailing,
        "runs": run,
        "attempts": attempt,
        "users": other_user,
    }


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


@pytest.mark.parametrize("role", ["user", "manager"])
def test_every_documented_operation_answers_a_documented_status(request, objects, role):
    from api.tests.conftest import bearer

    api = bearer(request.getfixturevalue(role))
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    walked = 0
    for path, method, operation in operations(schema):
        resource = path.split("/")[3]
        url = path.replace("{id}", str(objects[resource].pk)) if resource in objects else path
        params = {"client": objects["clients"].pk} if url.endswith("/preview/") else {}
        response = api.get(url, params) if method == "get" else getattr(api, method)(url, {}, format="json")
        documented = set(operation["responses"])
        assert str(response.status_code) in documented, (role, method, path, response.status_code, documented)
        if response.status_code >= 400:
            assert set(response.json()["error"]) >= {"status", "code", "message"}
        elif response.status_code != 204:
            assert response["Content-Type"] == "application/json"
        walked += 1
    assert walked == 36

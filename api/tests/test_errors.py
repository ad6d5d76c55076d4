"""Errors come in one JSON shape; hostile input is a 400 with field errors, never a 500."""

import pytest

from mailings.models import Client
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db
HUGE = 10**30


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) >= {"status", "code", "message"}
    assert (error["status"], error["code"]) == (status, code)
    assert error["message"]
    return error


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a\x00b@example.org"},
        {"email": "a@example.org", "full_name": "x\x00"},
        {"email": "a@example.org", "comment": "\x00"},
        {"email": "x" * 300 + "@example.org"},
        {"email": "a@example.org", "full_name": "x" * 10_000},
        {"email": 12},
        {"email": ["a@example.org"]},
        {"email": {"$ne": ""}},
        {"email": None},
        {"email": HUGE},
        {"email": "a@example.org", "full_name": HUGE},
        {},
    ],
)
def test_hostile_clients_are_400(api, body):
    error = assert_error(api.post("/api/v1/clients/", body, format="json"), 400, "invalid")
    assert error["fields"]
    for field_errors in error["fields"].values():
        assert {"code", "message"} <= set(field_errors[0])
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    "patch",
    [
        {"message": HUGE},
        {"message": -1},
        {"message": "1; DROP TABLE"},
        {"clients": [HUGE]},
        {"clients": "all"},
        {"clients": [1.5]},
        {"clients": list(range(1, 10_002))},
        {"start_at": "not a date"},
        {"start_at": "99999-01-01T00:00:00Z"},
        {"start_at": "2026-02-30T00:00:00Z"},
        {"end_at": HUGE},
        {"periodicity": "hourly"},
        {"periodicity": "once\x00"},
        {"all_clients": "maybe"},
    ],
)
def test_hostile_mailings_are_400(api, user, patch):
    mailing = MailingFactory(owner=user)
    body = {"message": mailing.message_id, "start_at": "2030-01-01T10:00:00Z", "end_at": "2030-02-01T10:00:00Z"}
    assert_error(api.post("/api/v1/mailings/", body | patch, format="json"), 400, "invalid")
    assert_error(api.patch(f"/api/v1/mailings/{mailing.pk}/", patch, format="json"), 400, "invalid")


def test_hostile_messages_are_400(api, user):
    message = MessageFactory(owner=user)
    for body in [{"subject": "x" * 256, "body": "b"}, {"subject": "s\x00", "body": "b"}, {"subject": [], "body": {}}]:
        assert_error(api.post("/api/v1/messages/", body, format="json"), 400, "invalid")
        assert_error(api.put(f"/api/v1/messages/{message.pk}/", body, format="json"), 400, "invalid")


@pytest.mark.parametrize("pk", ["99999999999999999999999999", "9223372036854775808", "0"])
def test_huge_or_zero_ids_in_the_path_are_404(api, pk):
    assert_error(api.get(f"/api/v1/clients/{pk}/"), 404, "not_found")
    assert_error(api.delete(f"/api/v1/mailings/{pk}/"), 404, "not_found")


def test_malformed_json_is_400(api):
    response = api.generic("POST", "/api/v1/clients/", b'{"email": ', content_type="application/json")
    assert_error(response, 400, "parse_error")
    response = api.generic("POST", "/api/v1/clients/", b'{"email": "\xff"}', content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_wrong_content_type_is_415(api):
    response = api.generic("POST", "/api/v1/clients/", b"<xml/>", content_type="application/xml")
    assert_error(response, 415, "unsupported_media_type")


def test_wrong_method_is_405(api, user):
    client = ClientFactory(owner=user)
    assert_error(api.post(f"/api/v1/clients/{client.pk}/", {}, format="json"), 405, "method_not_allowed")
    assert_error(api.delete("/api/v1/runs/1/"), 405, "method_not_allowed")


def test_bad_cursor_is_404_not_500(api):
    assert_error(api.get("/api/v1/clients/", {"cursor": "garbage"}), 404, "not_found")


@pytest.mark.parametrize("params", [{"cursor": "a\x00"}, {"email": "a\x00b"}, {"x\x00": "1"}])
def test_nul_in_the_query_is_400_in_the_api_shape(api, params):
    assert_error(api.get("/api/v1/clients/", params), 400, "null_characters_not_allowed")


def test_bad_page_size_falls_back_to_the_default(api, user):
    ClientFactory(owner=user)
    for size in ["-5", "abc", str(HUGE)]:
        assert api.get("/api/v1/clients/", {"page_size": size}).status_code == 200


def test_anonymous_is_401_in_the_same_shape(anon_api):
    response = anon_api.get("/api/v1/clients/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_bad_email_filter_is_400(api):
    assert_error(api.get("/api/v1/clients/", {"email": "x" * 300}), 400, "invalid")


def test_a_body_over_the_limit_is_413(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = {"clients": [{"email": f"c{i}@example.org"} for i in range(100)]}
    assert_error(api.post("/api/v1/clients/bulk/", body, format="json"), 413, "request_too_large")
    assert not Client.objects.exists()

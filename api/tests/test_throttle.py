"""Per-token limits, counted in the shared cache: each token has its own budget."""

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings

from api.tests.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_limits(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/min", "api_bulk": "1/min"},
    }
    assert api_settings.DEFAULT_THROTTLE_RATES["api"] == "3/min"
    yield
    cache.clear()


def test_each_token_has_its_own_budget(tight_limits, user):
    first, second = bearer(user, "one"), bearer(user, "two")
    assert [first.get("/api/v1/clients/").status_code for _ in range(3)] == [200, 200, 200]
    response = first.get("/api/v1/clients/")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert 0 < error["retry_after"] <= 60
    assert int(response["Retry-After"]) > 0
    assert second.get("/api/v1/clients/").status_code == 200


def test_bulk_upsert_has_a_smaller_budget(tight_limits, api):
    body = {"clients": [{"email": "a@example.org"}]}
    assert api.post("/api/v1/clients/bulk/", body, format="json").status_code == 200
    assert api.post("/api/v1/clients/bulk/", body, format="json").status_code == 429
    assert api.get("/api/v1/clients/").status_code == 200

"""The account-email throttle: shared through the cache, open when the cache is down."""

import pytest

from accounts.services import mail_throttle_allows
from core.testing.smtp import free_port

pytestmark = pytest.mark.django_db


def test_one_email_per_address_and_purpose(settings):
    assert mail_throttle_allows("a@example.com")
    assert not mail_throttle_allows("A@Example.com ")
    assert mail_throttle_allows("a@example.com", purpose="password-reset")
    assert mail_throttle_allows("b@example.com")


def test_a_redis_outage_lets_mail_through(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    assert mail_throttle_allows("a@example.com")
    assert mail_throttle_allows("a@example.com")

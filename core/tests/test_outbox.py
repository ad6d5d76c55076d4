"""The development outbox: the sink's messages, links made clickable, only with DEBUG."""

import importlib

import pytest
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve


def _reload_urls():
    import mailsite.urls

    clear_url_caches()
    importlib.reload(mailsite.urls)


@pytest.mark.django_db
def test_outbox_exists_only_with_debug(client, settings, tmp_path):
    settings.MAIL_SINK_DIR = tmp_path
    (tmp_path / "20260101T000000000000-abc.eml").write_bytes(
        b"To: new@example.org\r\nSubject: Verify\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\n"
        b"Open http://127.0.0.1:8000/accounts/verify/abc/ to verify.\r\n"
    )
    try:
        with override_settings(DEBUG=True):
            _reload_urls()
            listing = client.get("/outbox/")
            assert listing.status_code == 200
            assert "Verify" in listing.content.decode()
            detail = client.get("/outbox/20260101T000000000000-abc.eml/")
            assert '<a href="http://127.0.0.1:8000/accounts/verify/abc/">' in detail.content.decode()
            assert client.get("/outbox/../../etc/passwd/").status_code == 404
        with override_settings(DEBUG=False):
            _reload_urls()
            with pytest.raises(Resolver404):
                resolve("/outbox/")
            assert client.get("/outbox/", follow=True).status_code == 404
    finally:
        _reload_urls()

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: email address normalization, the time-stamped
    model base, the read-only Wagtail admin base classes, account emails,
    `load_demo`, and the development mail sink and outbox."""

    name = "core"

    def ready(self):
        from core import page_cache_signals

        page_cache_signals.connect()

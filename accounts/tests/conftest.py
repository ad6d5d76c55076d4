import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache(db):
    """Throttle keys live in the cache, which outlives a test on Redis."""
    cache.clear()
    yield
    cache.clear()

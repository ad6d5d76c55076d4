import pytest
from django.core.cache import cache

from accounts.services import THROTTLE_KEY_PREFIX


@pytest.fixture(autouse=True)
def _no_throttle_keys_from_other_tests(db):
    """Throttle keys live in the cache. The database cache is rolled back with each
    test; Redis outlives it, so our keys (and only ours: the broker shares it) go."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern(THROTTLE_KEY_PREFIX + "*")
    yield
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern(THROTTLE_KEY_PREFIX + "*")

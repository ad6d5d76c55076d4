"""How long to wait before trying again."""

import random
from datetime import timedelta


def backoff(tries: int, *, base: float, cap: float) -> timedelta:
    """Exponential backoff with +-20% jitter, so retries do not arrive in step."""
    delay = min(cap, base * 2 ** max(0, tries - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))

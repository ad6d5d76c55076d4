"""The bench's Django settings: the product's, plus django-post-office (the
peer) and nothing else. The peer never enters the product's INSTALLED_APPS."""

from mailsite.settings import *  # noqa: F403
from mailsite.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "post_office"]
# A bulk sender would raise the batch from the default 100 (its docs' example is 1000);
# threads per process and the log level (one Log row per sent email) stay at their defaults.
POST_OFFICE = {"BATCH_SIZE": 1000}
# Its INFO lines (two per batch and process) would bury the bench's output.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "post_office": {"level": "WARNING"}}}  # noqa: F405

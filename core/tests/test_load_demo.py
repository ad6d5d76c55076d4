"""`manage.py load_demo`: every app's demo data, idempotent."""

import os

import pytest
from django.core.management import call_command

from accounts.models import User


@pytest.mark.django_db
def test_load_demo_is_idempotent():
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    count = User.objects.count()
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert User.objects.count() == count
    assert User.objects.filter(is_superuser=True, email="admin@mailsite.test").exists()

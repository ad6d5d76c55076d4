"""Load the demo data `make run` shows. Idempotent: run it as often as you like.

Each app with demo data keeps a `demo.py` with `load(stdout)`; they run in the
order below, so later apps can use what earlier ones made. They are named, not
imported, here: core depends on no app."""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_MODULES = ["accounts.demo", "mailings.demo", "home.demo", "blog.demo"]


class Command(BaseCommand):
    help = "Create or refresh the demo users and content (idempotent)."

    def handle(self, *args, **options):
        for name in DEMO_MODULES:
            with transaction.atomic():
                import_module(name).load(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

"""django-q2's `qcluster`, with a sentinel that stops gracefully (mailings/engine/stopping.py)."""

from django_q import cluster
from django_q.management.commands.qcluster import Command as QclusterCommand

from mailings import engine


class Command(QclusterCommand):
    def handle(self, *args, **options):
        cluster.Sentinel = engine.GracefulSentinel
        super().handle(*args, **options)

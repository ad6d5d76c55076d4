"""django-q2's `qcluster`, with a sentinel that stops gracefully
(mailings/engine/stopping.py), and the engine's short sweep in the main
process: every MAILINGS_SWEEP_SECONDS a dead cluster's claims are taken back
and idle workers fed (mailings/engine/sweeper.py), so a killed cluster's work
resumes within seconds, not at the next minute's dispatcher."""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connections
from django_q import cluster
from django_q.management.commands.qcluster import Command as QclusterCommand

from mailings import engine

logger = logging.getLogger("mailings.engine.sweeper")


class Command(QclusterCommand):
    def handle(self, *args, **options):
        cluster.Sentinel = engine.GracefulSentinel
        settings.SECRET_KEY  # noqa: B018 - django-q2 signs tasks with it: fail at once without it
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]  # as django-q2's own command does
        q = cluster.Cluster()
        q.start()
        if options.get("run_once", False):
            q.stop()
            return
        # The sentinel and its workers are forked by now: this process may use the database.
        sweep_until_stopped(q)


def sweep_until_stopped(q: cluster.Cluster) -> None:
    """Sweep while the sentinel lives. A signal makes the cluster stop itself
    (django-q2's handler joins the sentinel), and this loop notices."""
    wake = threading.Event()
    interval = settings.MAILINGS_SWEEP_SECONDS
    next_at = time.monotonic()
    while q.sentinel is not None and q.sentinel.is_alive():
        if time.monotonic() >= next_at:
            next_at = time.monotonic() + interval
            try:
                engine.sweep()
            except (DatabaseError, InterfaceError, *engine.BROKER_ERRORS):
                logger.warning("The sweep failed; the next one tries again", exc_info=True)
                connections.close_all()
        wake.wait(0.5)

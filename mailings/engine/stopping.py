"""A graceful stop of django-q2's worker processes.

Why the stop was neither clean nor prompt: django-q2 sets SIGTERM back to its
default in the sentinel, and every worker inherits that, so a SIGTERM sent to
the cluster's process group (honcho on Ctrl-C, an init system) killed each
worker mid-message, its claims held until they went stale; a SIGTERM to the
main process alone made the sentinel put its STOP pills behind every task
already queued, and wait for them all.

Worse, a sentinel killed while it waited on django-q2's stop event (a
multiprocessing Event) left that event's condition with a sleeper that never
wakes: the main process then hung for ever in `stop_event.set()`.

So each worker handles SIGTERM and SIGINT itself (django-q2's post_spawn): an
idle worker leaves at once; a busy one lets its chunk finish the current
message, write its results and give back the claims it still holds
(`stop_requested` is checked before every message), then leaves instead of
taking another task. And `GracefulSentinel` (our `qcluster` command uses it)
ignores SIGTERM, as its pusher and monitor do: the main process stops them the
orderly way, and the sentinel passes the signal on to its workers first.
"""

import contextlib
import functools
import os
import queue
import signal
import threading
from multiprocessing import current_process

from django_q.cluster import Sentinel

_requested = threading.Event()
_busy = False


def stop_requested() -> bool:
    """True in a worker that has been asked to stop."""
    return _requested.is_set()


def _on_signal(signum, frame):
    _requested.set()
    if not _busy:
        raise SystemExit(0)  # idle, waiting on the task queue


def worker_started(**kwargs) -> None:
    """django-q2's post_spawn: this process is a worker (unless tasks run in
    the calling process, Q_SYNC, which keeps its own signal handling)."""
    if current_process().name == "MainProcess":
        return
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def task_starting(**kwargs) -> None:
    """django-q2's pre_execute: no new task once a stop was asked for."""
    global _busy  # noqa: PLW0603 - one flag per worker process
    if _requested.is_set():
        raise SystemExit(0)
    _busy = True


def task_finished(**kwargs) -> None:
    """django-q2's post_execute_in_worker."""
    global _busy  # noqa: PLW0603 - one flag per worker process
    _busy = False
    if _requested.is_set():
        # The worker queues this task's result next, then waits for another
        # task: the signal, repeated, ends it there.
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()


class GracefulSentinel(Sentinel):
    def start(self):
        # Told to stop by the main process (stop_event), never killed by a signal to the group.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        super().start()

    def stop(self):
        # Each worker finishes its current message and leaves, rather than work through the queue.
        for process in self.pool:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        # The workers leave on that signal, not on django-q2's STOP pills: with the
        # task queue full (Q_QUEUE_LIMIT) and nobody left to take from it, a blocking
        # put of a pill held the sentinel, and the cluster, for ever.
        self.task_queue.put = functools.partial(_put_if_room, self.task_queue.put)
        super().stop()


def _put_if_room(put, obj, *args, **kwargs):
    with contextlib.suppress(queue.Full):
        put(obj, block=False)

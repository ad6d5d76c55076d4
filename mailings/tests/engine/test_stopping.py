"""The graceful stop's sentinel (engine/stopping.py); the whole stop of a real
cluster is tests/test_service_graceful_stop.py."""

import multiprocessing
import time

from mailings.engine.stopping import _put_if_room


def test_a_stop_pill_for_a_full_task_queue_is_dropped_not_waited_for():
    """The workers leave on their signal; nobody would ever take the pill."""
    tasks = multiprocessing.get_context("fork").Queue(maxsize=1)
    tasks.put("a chunk task")
    started = time.monotonic()

    _put_if_room(tasks.put, "STOP")

    assert time.monotonic() - started < 1
    assert tasks.get(timeout=5) == "a chunk task"
    _put_if_room(tasks.put, "STOP")
    assert tasks.get(timeout=5) == "STOP"
    tasks.close()
    tasks.join_thread()

"""A small in-process LRU map, for values whose cache key already names their
version (they never change under a key), so a process may keep them: stored
pages under their page version, article cards under their stamp. What is
current is always decided by the shared cache; this only saves fetching and
unpickling the same bytes again."""

import threading
from collections import OrderedDict


class LocalLRU:
    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            try:
                self._data.move_to_end(key)
            except KeyError:
                return default
            return self._data[key]

    def set(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

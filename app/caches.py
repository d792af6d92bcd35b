"""A least-recently-used map bounded by its number of entries and by its size in bytes.

The caches of /api/evaluate are keyed by what a client sends, so their memory must not grow
with what clients send: each keeps at most `entries` values and at most `budget` bytes, by
an estimate of each value's size given when it is put.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any


class BoundedCache:
    """Values by key; the least recently used go first when either bound is passed."""

    def __init__(self, entries: int, budget: int) -> None:
        self.entries = entries
        self.budget = budget
        self.size = 0
        self._kept: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._kept)

    def values(self) -> Iterator[Any]:
        return (value for value, _ in self._kept.values())

    def get(self, key: Hashable) -> Any:
        kept = self._kept.get(key)
        if kept is None:
            return None
        self._kept.move_to_end(key)
        return kept[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep `value`, which takes about `size` bytes; one too big for the cache is not kept."""
        # No single value may push out most of the others.
        if self.entries <= 0 or size > self.budget // 8:
            return
        old = self._kept.pop(key, None)
        if old is not None:
            self.size -= old[1]
        self._kept[key] = (value, size)
        self.size += size

        while len(self._kept) > self.entries or self.size > self.budget:
            _, (_, freed) = self._kept.popitem(last=False)
            self.size -= freed

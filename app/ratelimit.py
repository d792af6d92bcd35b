"""How often one client address may save graphs: a sliding window of one minute.

Saved graphs are the one thing a visitor can make the server keep. Without a limit, a script
could fill the disk with revisions. The window lives in this process's memory: app instances
sharing one PostgreSQL server each count on their own, so the real limit is per instance.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque

WINDOW_SECONDS = 60.0


class SaveLimit:
    """At most `per_minute` saves per address in any 60 seconds; 0 turns the limit off."""

    def __init__(self, per_minute: int, addresses: int = 10_000) -> None:
        self.per_minute = per_minute
        # The addresses seen most recently; the oldest is forgotten past this many, so a
        # flood of addresses cannot grow the table without bound.
        self.addresses = addresses
        self.saves: OrderedDict[str, deque[float]] = OrderedDict()
        # Save routes run in FastAPI's thread pool.
        self.lock = threading.Lock()

    def wait(self, address: str, now: float | None = None) -> int:
        """Record a save by `address` and return 0, or the whole seconds it must wait first."""
        if self.per_minute <= 0:
            return 0
        now = time.monotonic() if now is None else now

        with self.lock:
            times = self.saves.pop(address, None) or deque()
            self.saves[address] = times
            while times and times[0] <= now - WINDOW_SECONDS:
                times.popleft()
            if len(self.saves) > self.addresses:
                self.saves.popitem(last=False)

            if len(times) >= self.per_minute:
                return max(1, math.ceil(times[0] + WINDOW_SECONDS - now))
            times.append(now)
            return 0

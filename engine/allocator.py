"""Keeping freed memory in the process, so large arrays are not page-faulted in again and again.

A backward pass through LeNet-5 at batch 64 allocates and frees arrays of several megabytes
dozens of times. With glibc's defaults, many of them are mapped fresh from the kernel and
handed back when freed (the top of the heap is trimmed), so every pass touches new pages:
about 30 % of that pass went to page faults. Raising the mmap and trim thresholds
keeps freed blocks for the next allocation. The cost is memory: a process holds on to its
high-water mark, up to TRIM_THRESHOLD of free memory, instead of returning it at once.

This changes the whole process, so the engine never calls it by itself: `gradplay serve`
(when the app starts) and the benchmarks do, each once, before any work.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# glibc's parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

# Blocks up to 32 MiB (glibc's own ceiling for its adaptive threshold) come from the heap;
# up to 128 MiB of free heap is kept; the heap grows 8 MiB at a time.
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 128 * 2**20
TOP_PAD = 8 * 2**20

_tuned: bool | None = None


def keep_freed_memory() -> bool:
    """Tune glibc's malloc once for this process; False where there is no glibc (musl, macOS)."""
    global _tuned
    if _tuned is not None:
        return _tuned

    _tuned = False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        return False

    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                (M_TOP_PAD, TOP_PAD))  # fmt: skip
    _tuned = all(mallopt(parameter, value) == 1 for parameter, value in settings)
    return _tuned

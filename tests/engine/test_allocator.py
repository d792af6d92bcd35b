"""The allocator setting that `gradplay serve` applies: freed big arrays are reused."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap

from engine.allocator import keep_freed_memory

# A child process counts its own page faults, so what earlier tests allocated or tuned in
# this process cannot blur the numbers.
_COUNT_FAULTS = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from engine.allocator import keep_freed_memory
    if sys.argv[1] == "tuned":
        assert keep_freed_memory()
    def one_pass():
        # Several 8 MiB arrays alive at once, as in a backward pass through LeNet; glibc's
        # adaptive threshold copes with one array freed and allocated again, not with this.
        arrays = [np.ones(2**20) for _ in range(4)]
        del arrays
    one_pass(); one_pass()  # warm up: the first passes fault in either case
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        one_pass()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def _faults(mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", _COUNT_FAULTS, mode], capture_output=True, text=True, check=True
    )
    return int(result.stdout)


def test_freed_arrays_are_reused_instead_of_faulted_in_again():
    pages_per_array = 8 * 2**20 // resource.getpagesize()

    untuned, tuned = _faults("default"), _faults("tuned")

    # By default about one array's pages are faulted in again on every pass; tuned, none.
    assert untuned > 10 * pages_per_array
    assert tuned < pages_per_array


def test_tuning_is_done_once_and_reported():
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True

"""Give the memory a large job freed back to the operating system (glibc ``malloc_trim``).

A stylisation at 2000x2000 allocates and frees several hundred MiB of arrays, many of them below glibc's
adaptive mmap threshold, so they come from per-thread heap arenas that keep the freed pages. With
several worker threads each arena keeps its own high-water mark, and the process's resident memory
grows past what the jobs running at once really use (measured: 1593 → ~1150 MiB peak for 3 accounts ×
3 jobs of 4999x4999, style 129, ``bench/bench_memory.py``). Trimming after each large job, while it
still holds its compute slot, costs 1.5-3.5 ms after a 2000x2000 job and nothing measurable in time
per call; small jobs are not trimmed. A no-op where the C library has no ``malloc_trim`` (musl, macOS).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

#: source images of at least this many pixels are followed by a trim
TRIM_PIXELS = 1_000_000


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        fn = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn  # type: ignore[no-any-return]


def trim() -> bool:
    """Return freed heap memory of every arena to the OS; False where the C library cannot."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True


def trim_after(pixels: int) -> bool:
    """``trim()`` after a job whose source had ``pixels`` pixels, when that is at least ``TRIM_PIXELS``."""
    return pixels >= TRIM_PIXELS and trim()

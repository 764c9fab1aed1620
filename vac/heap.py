"""Giving freed memory back to the operating system, for long-running screens fed at high rates.

glibc's malloc keeps what a program freed for later use: in one arena per thread that ever
allocated (up to 8 per core), and in the middle of each heap, where it is never returned
unasked. A dashboard that parses 10,000 changes/s on reader threads frees as much as it takes,
yet its resident size only grows to the high-water mark of every arena. Two calls bound that:
fewer arenas (`limit_arenas`, before the threads start) and `trim` now and then, which hands the
free pages back (glibc's `malloc_trim`). Elsewhere than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_ARENA_MAX = -8
"""mallopt's parameter number for the arena count (glibc's malloc.h)."""


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt, libc.malloc_trim  # noqa: B018  (glibc only: musl and macOS lack them)
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(most: int = 2) -> bool:
    """At most `most` malloc arenas from now on; True if glibc took it."""
    libc = _libc()
    return libc is not None and libc.mallopt(M_ARENA_MAX, most) == 1


def trim() -> bool:
    """Hand the free pages of every arena back to the OS; True if some were."""
    libc = _libc()
    return libc is not None and libc.malloc_trim(0) == 1

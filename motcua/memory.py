"""Keep the resident memory of long runs bounded under glibc's allocator.

Page images are tens of megabytes. glibc serves a freed large block's size from its heap next
time (the mmap threshold rises dynamically up to 32 MiB), and each thread gets its own arena, so
a 200-page run in a thread pool keeps hundreds of megabytes of freed images resident. Fixing the
threshold at 1 MiB makes large arrays come from mmap and go back to the system when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def bound_allocator(mmap_threshold: int = 1 << 20, arenas: int = 2) -> bool:
    """Apply the settings through `mallopt`; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_ARENA_MAX, arenas))
    log.debug("glibc mallopt applied: %s", ok)
    return ok

"""Give large freed blocks back to the operating system at once (glibc only).

Each argon2 check allocates ~19 MiB. glibc raises its mmap threshold after the first such
block is freed, so later ones come from per-thread arenas and stay in the process: with 40
server threads that was over 650 MiB of RSS after a flood of wrong secrets, although no more
than ``auth_concurrency`` checks ever ran at once. A fixed threshold keeps every block above
it mmapped, so it is unmapped when argon2 frees it.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
THRESHOLD = 1024 * 1024


def return_large_blocks_to_os() -> bool:
    """True when glibc accepted the fixed threshold; False elsewhere (musl, macOS: nothing to do)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, THRESHOLD) == 1
    if not ok:
        log.warning("mallopt(M_MMAP_THRESHOLD) was refused; freed argon2 memory may stay in the process")
    return ok

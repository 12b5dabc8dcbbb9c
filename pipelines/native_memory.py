"""Keep a long sync's resident memory flat: give freed native memory back.

A full sync of 100,000 tickets frees far more memory than it ever holds at
once (each chunk's pages, Arrow batches, Parquet files and DuckDB
transactions), but three allocators keep what was freed, so the resident
size grew chunk after chunk although the Python objects did not:

* Arrow's default pool (mimalloc) keeps the buffers of finished batches; the
  system allocator hands them back to malloc at once. It is chosen before
  pyarrow is first imported (`choose_allocators`, run by `pipelines/__init__`):
  switching later left 30 MB more resident in a 20,000-ticket full sync.
* glibc gives each thread that allocates at the same time as another its own
  arena (up to eight per core) and keeps the freed memory of each: the HTTP
  threads, dlt's load threads and DuckDB's threads share two arenas instead.
* Between chunks, `malloc_trim` returns the free memory at the top of each
  heap to the operating system.

The glibc calls are made only where glibc is the C library (Linux); elsewhere
they are skipped and the sync works as before. `ARROW_DEFAULT_MEMORY_POOL`
set in the environment is respected.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
from functools import cache
from typing import Final

logger = logging.getLogger("atera_sync.memory")

MALLOC_ARENAS: Final = 2
"""glibc malloc arenas for the whole process (glibc's default: eight per core)."""

_M_ARENA_MAX: Final = -8
"""glibc's `mallopt` parameter number for `M_ARENA_MAX` (malloc.h)."""


def choose_allocators() -> None:
    """Arrow's pool and glibc's arenas, chosen before pyarrow loads and threads start."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    _bound_arenas()


def bound_native_memory() -> None:
    """Arrow on the allocator `choose_allocators` chose, and at most `MALLOC_ARENAS` glibc
    arenas, also where pyarrow was loaded before this package.

    Call before the sync starts its threads: arenas that exist already stay.
    """
    import pyarrow as pa  # after choose_allocators

    wanted = os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "system")
    if wanted == "system" and pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())
    _bound_arenas()


def release_free_memory() -> None:
    """Return the free memory of malloc's heaps to the operating system (glibc only)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def _bound_arenas() -> None:
    libc = _glibc()
    if libc is not None and libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS) != 1:
        logger.debug("glibc refused M_ARENA_MAX=%s", MALLOC_ARENAS)


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc, else None."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None

"""A sync gives the native memory it freed back (pipelines.native_memory)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest

from pipelines.load_tuning import LOAD_SETTINGS
from pipelines.native_memory import _glibc, bound_native_memory

needs_glibc = pytest.mark.skipif(
    _glibc() is None, reason="SKIPPED: malloc arenas and malloc_trim are glibc's (Linux) only"
)


def _run(code: str, **env: str) -> str:
    """Run `code` in a fresh interpreter (arenas and pools are per process); its stdout."""
    environment = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**environment, **env},
    )
    return done.stdout.strip()


def test_importing_the_package_puts_arrow_on_the_system_allocator() -> None:
    code = """
        import pipelines
        import pyarrow as pa
        print(pa.default_memory_pool().backend_name)
        """

    assert _run(code) == "system"
    # a choice made in the environment stands
    assert _run(code, ARROW_DEFAULT_MEMORY_POOL="mimalloc") == "mimalloc"


def test_the_sync_moves_arrow_to_the_system_allocator_if_pyarrow_came_first() -> None:
    out = _run(
        """
        import pyarrow as pa
        pa.set_memory_pool(pa.mimalloc_memory_pool())
        from pipelines.native_memory import bound_native_memory
        bound_native_memory()
        before = pa.system_memory_pool().bytes_allocated()
        batch = pa.array(range(1_000_000), type=pa.int64())
        print(pa.default_memory_pool().backend_name,
              pa.system_memory_pool().bytes_allocated() - before >= 8_000_000)
        """
    )
    assert out == "system True"


def test_bounding_twice_is_harmless() -> None:
    bound_native_memory()
    bound_native_memory()

    assert pa.default_memory_pool().backend_name == "system"


@needs_glibc
def test_freed_heap_memory_goes_back_to_the_system_between_chunks() -> None:
    # 96 MB in 64 KiB blocks (below glibc's mmap threshold, so on the heap); every
    # other block is freed: free() cannot shrink the heap around the blocks kept
    out = _run(
        """
        from pipelines.native_memory import bound_native_memory, release_free_memory

        def rss_mb():
            with open("/proc/self/status") as status:
                line = next(l for l in status if l.startswith("VmRSS:"))
            return int(line.split()[1]) / 1024

        bound_native_memory()
        blocks = [b"x" * 65536 for _ in range(1536)]
        del blocks[::2]
        freed = rss_mb()
        release_free_memory()
        print(round(freed - rss_mb()))
        """
    )
    assert int(out) >= 30, f"malloc_trim gave back only {out} MB of the 48 MB freed"


@needs_glibc
def test_glibc_accepts_the_arena_bound() -> None:
    libc = _glibc()
    assert libc is not None
    assert libc.mallopt(-8, 2) == 1  # M_ARENA_MAX, as bound_native_memory sets it


def test_dlt_loads_two_jobs_at_a_time() -> None:
    assert LOAD_SETTINGS["load.workers"] == 2

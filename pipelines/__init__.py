"""atera-sync: Atera's tickets, comments and work hours in a warehouse, with SLA marts."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pipelines.native_memory import choose_allocators

choose_allocators()  # before pyarrow is imported: see pipelines.native_memory

try:
    __version__ = version("atera-sync")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

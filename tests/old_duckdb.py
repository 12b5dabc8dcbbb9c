"""An older `duckdb` wheel in a virtual environment of its own, to open files as BI drivers do.

The drivers inside BI tools bundle a fixed DuckDB version; this is the oldest
the warehouse promises to open. The environment is created once and cached
under `.cache/` (ignored by git); without PyPI the tests that need it are
skipped, saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

OLD_DUCKDB_VERSION = "1.1.3"
CACHE = Path(__file__).resolve().parents[1] / ".cache" / f"duckdb-{OLD_DUCKDB_VERSION}"


def old_duckdb_python() -> Path:
    """The Python of an environment with `duckdb==1.1.3`; skips the test if it cannot be built."""
    python = CACHE / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    ready = CACHE / ".ready"
    if ready.exists():
        return python
    venv.create(CACHE, with_pip=True, clear=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"duckdb=={OLD_DUCKDB_VERSION}"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if install.returncode != 0:
        pytest.skip(
            f"SKIPPED LOUDLY: cannot install duckdb=={OLD_DUCKDB_VERSION} from PyPI into "
            f"{CACHE} (offline?), so the old-driver check did not run: "
            f"{install.stderr.strip()[-400:]}"
        )
    ready.touch()
    return python


def run_old_duckdb(script: str, *args: str) -> Any:
    """Run `script` under DuckDB 1.1.3; it prints one JSON value, which is returned."""
    done = subprocess.run(
        [str(old_duckdb_python()), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"DuckDB {OLD_DUCKDB_VERSION} failed:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])

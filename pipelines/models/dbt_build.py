"""Run the dbt project in `sql/` in this process, with a profile of our own.

dbt is an ordinary dependency: `dbtRunner` runs in the same Python process
and environment, offline, with anonymous usage statistics off. The profile
is generated (a user never writes `profiles.yml` for the default setup) and
written to a private work folder beside the warehouse, with dbt's `target/`
(compiled SQL, manifest, run results) and its log file;
`ATERA_DBT_WORK_DIR` moves that folder.

What changes from run to run reaches dbt through environment variables (the
database path, `ATERA_AS_OF`), never through `--vars`: dbt parses the whole
project again whenever vars change (seconds), but only the files that read
an environment variable when its value changes, so that a nightly run parses
almost nothing.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pipelines
from pipelines.models.errors import ModelProjectError
from pipelines.private_files import ensure_private_dir, write_private_text

logger = logging.getLogger("atera_sync.models")

THREADS = 4


def sql_dir() -> Path:
    """The dbt project: inside the installed package, else the repository's `sql/`."""
    package_dir = Path(pipelines.__file__).parent
    packaged = package_dir / "sql"
    if (packaged / "dbt_project.yml").is_file():
        return packaged
    return package_dir.parent / "sql"


@dataclass(frozen=True)
class NodeFailure:
    """A model, seed or test that did not succeed."""

    kind: str
    name: str
    path: str
    relation: str | None
    message: str
    compiled_sql: str | None = None
    """A test's compiled query, to show the rows it found."""


@dataclass
class DbtOutcome:
    """What one `dbt build` did."""

    relations: list[str] = field(default_factory=list)
    """Relations built (`schema.name`), seeds included, in build order."""
    tests_passed: int = 0
    failures: list[NodeFailure] = field(default_factory=list)
    seconds: float = 0.0


DUCKDB_PATH_ENV = "ATERA_DBT_DUCKDB_PATH"
WORK_DIR_ENV = "ATERA_DBT_WORK_DIR"


def work_dir_for(duckdb_path: Path) -> Path:
    """dbt's private folder for a warehouse file: `ATERA_DBT_WORK_DIR`, else beside it."""
    configured = os.environ.get(WORK_DIR_ENV)
    if configured:
        return Path(configured)
    return duckdb_path.with_name(f".{duckdb_path.stem.lstrip('.')}.dbt")


def duckdb_profile(threads: int = THREADS) -> str:
    """A profiles.yml for the DuckDB file named by `ATERA_DBT_DUCKDB_PATH` (no extensions).

    The session time zone is UTC, so that timestamps without a zone mean UTC and no
    result depends on the time zone of the machine that builds.
    """
    profile = {
        "atera_sync": {
            "target": "duckdb",
            "outputs": {
                "duckdb": {
                    "type": "duckdb",
                    "path": "{{ env_var('" + DUCKDB_PATH_ENV + "') }}",
                    "schema": "analytics",
                    "threads": threads,
                    "settings": {"TimeZone": "UTC"},
                }
            },
        }
    }
    return json.dumps(profile, indent=2)  # JSON is YAML


@dataclass(frozen=True)
class ServerProfile:
    """A dbt profile for a server warehouse: its text, the environment it reads (secrets
    stay out of the file), and dbt's work folder."""

    text: str
    environment: Mapping[str, str]
    work_dir: Path


def run_dbt_build(
    duckdb_path: Path | None,
    variables: Mapping[str, Any],
    environment: Mapping[str, str],
    server: ServerProfile | None = None,
) -> DbtOutcome:
    """`dbt build` the project against a DuckDB file, or a server with its profile.

    Args:
        duckdb_path: the warehouse file (may be open in this process); None with `server`.
        variables: the project's vars (see `sql/dbt_project.yml`), which rarely change.
        environment: `ATERA_*` variables the models read, which change every run.
        server: the profile of a server warehouse instead of the DuckDB file.

    Raises:
        ModelProjectError: dbt could not parse or compile the project.
    """
    command = ["build", "--vars", json.dumps(dict(variables))]
    started = time.perf_counter()
    if server is not None:
        with dbt_environment({**environment, **server.environment}):
            result = invoke_dbt(command, server.work_dir, profile=server.text)
    else:
        assert duckdb_path is not None
        with dbt_environment({**environment, DUCKDB_PATH_ENV: str(duckdb_path)}):
            try:
                result = invoke_dbt(command, work_dir_for(duckdb_path))
            finally:
                release_dbt_duckdb()
    outcome = DbtOutcome(seconds=time.perf_counter() - started)
    for node_result in getattr(result.result, "results", []):
        _collect(outcome, node_result)
    logger.debug(
        "dbt build: %d relations, %d tests passed, %d failures in %.2fs",
        len(outcome.relations),
        outcome.tests_passed,
        len(outcome.failures),
        outcome.seconds,
    )
    return outcome


def release_dbt_duckdb() -> None:
    """Close the DuckDB connection that dbt-duckdb keeps for the life of the process.

    Kept open, it would hold the working copy after the build: the file could not be
    moved to another storage format, and a rewrite renamed over it would leave that
    connection writing to the file renamed away.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()


def invoke_dbt(command: list[str], work_dir: Path, profile: str | None = None) -> Any:
    """Run one dbt command on the project with the profile in `work_dir`; quiet, offline.

    `profile`: the profiles.yml text (default: the DuckDB file's, `duckdb_profile()`).

    Raises:
        ModelProjectError: dbt could not parse, compile or run the command.
    """
    from dbt.cli.main import dbtRunner  # imported here: it takes a second to load

    # owner-only (0700, whatever the umask): dbt writes compiled SQL and logs in it
    ensure_private_dir(work_dir)
    profile = profile if profile is not None else duckdb_profile()
    profiles = work_dir / "profiles.yml"
    if not profiles.exists() or profiles.read_text(encoding="utf-8") != profile:
        write_private_text(profiles, profile)
    args = [
        *command,
        "--project-dir",
        str(sql_dir()),
        "--profiles-dir",
        str(work_dir),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--log-level",
        "none",
        "--log-level-file",
        "info",
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
        "--no-use-colors",
    ]
    result = dbtRunner().invoke(args)
    if result.exception is not None or result.result is None:
        log = work_dir / "logs" / "dbt.log"
        raise ModelProjectError(
            f"dbt {command[0]} failed on the project in {sql_dir().name}/: "
            f"{result.exception or 'no result'} (details in {log})"
        )
    return result


@contextmanager
def dbt_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a dbt call, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _collect(outcome: DbtOutcome, node_result: Any) -> None:
    node = node_result.node
    status = str(node_result.status)
    kind = str(node.resource_type)
    relation = _relation(node)
    if status in ("success", "pass"):
        if kind == "test":
            outcome.tests_passed += 1
        elif relation:
            outcome.relations.append(relation)
        return
    if status == "skipped":
        return
    outcome.failures.append(
        NodeFailure(
            kind=kind,
            name=node.name,
            path=f"sql/{node.original_file_path}",
            relation=relation,
            message=str(node_result.message or status),
            compiled_sql=getattr(node, "compiled_code", None),
        )
    )


def _relation(node: Any) -> str | None:
    schema = getattr(node, "schema", None)
    name = getattr(node, "alias", None) or getattr(node, "name", None)
    if str(node.resource_type) not in ("model", "seed", "snapshot") or not schema:
        return None
    return f"{schema}.{name}"

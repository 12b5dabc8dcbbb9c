"""Run the data tests: SQL files that must return zero rows."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from pipelines.models.errors import DataTestFailed, DataTestFailure, ModelBuildError
from pipelines.models.project import DataTest

SAMPLE_ROWS = 5
"""Offending rows quoted in the error message, per failing test."""


def check(con: duckdb.DuckDBPyConnection, test: DataTest) -> DataTestFailure | None:
    """Run one test; return its failure, or None when it returned no rows.

    Raises:
        ModelBuildError: the test's SQL does not run.
    """
    path = f"sql/tests/{test.path.name}"
    wrapped = f"select * from (\n{test.sql}\n) as data_test"
    try:
        counted = con.execute(f"select count(*) from (\n{wrapped}\n) as counted").fetchone()
        row_count = counted[0] if counted else 0
        if row_count == 0:
            return None
        cursor = con.execute(f"{wrapped}\nlimit {SAMPLE_ROWS}")
        columns = [column[0] for column in cursor.description]
        sample_rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise ModelBuildError(f"data test {test.name}", path, exc, action="run") from exc
    return DataTestFailure(
        name=test.name,
        path=path,
        row_count=row_count,
        columns=columns,
        sample_rows=sample_rows,
    )


def run_data_tests(con: duckdb.DuckDBPyConnection, tests: Iterable[DataTest]) -> int:
    """Run every test, then fail once for all that returned rows.

    Returns:
        How many tests passed (all of them, when this returns).

    Raises:
        DataTestFailed: naming each failing test with a few of its rows.
    """
    passed = 0
    failures: list[DataTestFailure] = []
    for test in tests:
        failure = check(con, test)
        if failure is None:
            passed += 1
        else:
            failures.append(failure)
    if failures:
        raise DataTestFailed(failures)
    return passed

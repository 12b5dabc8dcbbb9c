"""The tuned DuckDB destination merges as dlt's does, deleting key by key."""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb

from pipelines.load_tuning import KeyByKeyMerge, duckdb_destination


def test_the_delete_has_one_clause_per_key_and_no_or() -> None:
    clauses = KeyByKeyMerge.gen_key_table_clauses(
        "d_table", "s_table", ['"comment_key"'], ['"ticket_id"'], for_delete=True
    )

    assert len(clauses) == 2
    assert all(" OR " not in clause for clause in clauses)
    assert 'd."comment_key" = s."comment_key"' in clauses[0]
    assert 'd."ticket_id" = s."ticket_id"' in clauses[1]


def test_the_destination_keeps_dlts_duckdb_type() -> None:
    destination = duckdb_destination("somewhere.duckdb")

    assert destination.destination_type == dlt.destinations.duckdb().destination_type
    assert destination.destination_name == "duckdb"


def test_a_merge_replaces_by_merge_key_and_by_primary_key(tmp_path: Path) -> None:
    path = tmp_path / "merge.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="merge_test",
        destination=duckdb_destination(str(path)),
        dataset_name="raw",
        pipelines_dir=str(tmp_path / "dlt"),
    )

    def load(rows: list[dict]) -> None:
        resource = dlt.resource(
            rows,
            name="comments",
            primary_key="comment_key",
            merge_key="ticket_id",
            write_disposition="merge",
        )
        pipeline.run(resource, loader_file_format="parquet")

    load(
        [
            {"comment_key": "a", "ticket_id": 1, "text": "first"},
            {"comment_key": "b", "ticket_id": 1, "text": "deleted later"},
            {"comment_key": "c", "ticket_id": 2, "text": "moves to ticket 3"},
            {"comment_key": "d", "ticket_id": 4, "text": "untouched"},
        ]
    )
    # ticket 1 now has only `a` (edited); comment `c` is listed under ticket 3
    load(
        [
            {"comment_key": "a", "ticket_id": 1, "text": "edited"},
            {"comment_key": "c", "ticket_id": 3, "text": "moved"},
        ]
    )

    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select comment_key, ticket_id, text from raw.comments order by 1"
        ).fetchall()
    assert rows == [("a", 1, "edited"), ("c", 3, "moved"), ("d", 4, "untouched")]

"""dlt's load path tuned for a large full sync: fast at 100,000 tickets, in bounded memory.

* `duckdb_destination(path)`: dlt's DuckDB destination whose merge deletes the
  replaced rows key by key. dlt deletes the rows of a table merged on a
  primary key *and* a merge key (comments and work hours: `comment_key` or
  `work_hour_id`, and `ticket_id`) with one `EXISTS (... pk = pk OR ticket_id =
  ticket_id)`, which DuckDB can only run as a nested loop: each chunk of a full
  sync compared every staged row with every row loaded before it, so a full
  sync's load grew with the square of the account. One `DELETE` per key (as dlt
  does for BigQuery) deletes the same rows with hash joins.
* `apply_load_tuning()`: dlt config for the Arrow batches of
  `pipelines.atera.arrow_batches`: they get dlt's own `_dlt_id` and
  `_dlt_load_id` columns, which dict rows got from the JSON normalizer, so the
  raw tables keep the same columns whichever way a batch came; and two load
  jobs at a time (see `LOAD_SETTINGS`).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Final

import dlt
from dlt.common.destination.reference import DestinationReference
from dlt.common.destination.typing import PreparedTableSchema
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.job_client_impl import FollowupJobRequest
from dlt.destinations.sql_jobs import SqlMergeFollowupJob

LOAD_SETTINGS: Final[dict[str, Any]] = {
    "normalize.parquet_normalizer.add_dlt_id": True,
    "normalize.parquet_normalizer.add_dlt_load_id": True,
    # two load jobs at a time: with dlt's default of 20 threads every table of a chunk
    # is copied at once, and a 100,000-ticket full sync peaked at 423 MB (4: 420 MB);
    # with 2 at 369 MB and as fast; with 1 at 369 MB but 35 % slower
    "load.workers": 2,
}
"""dlt config key -> value."""


def apply_load_tuning() -> None:
    """Set `LOAD_SETTINGS` in dlt's config (in code: they need no `.dlt/config.toml`)."""
    for key, value in LOAD_SETTINGS.items():
        dlt.config[key] = value


_BASE_SIGNATURE = inspect.signature(SqlMergeFollowupJob.gen_key_table_clauses)
"""dlt's own signature: (root, staging, primary_keys, merge_keys, for_delete, source_filter)
in recent versions, (root, staging, key_clauses, for_delete) in the oldest we support."""


class KeyByKeyMerge(SqlMergeFollowupJob):
    """dlt's merge, deleting the rows a key matches with one `DELETE` per key."""

    @classmethod
    def gen_key_table_clauses(cls, *args: Any, **kwargs: Any) -> list[str]:
        """One `FROM ... WHERE EXISTS` clause per key (dlt joins the keys with OR)."""
        given = _BASE_SIGNATURE.bind(*args, **kwargs).arguments
        root, staging = given["root_table_name"], given["staging_root_table_name"]
        source_filter = given.get("source_filter")
        if "key_clauses" in given:
            clauses = list(given["key_clauses"])
        else:
            clauses = cls._gen_key_table_clauses(given["primary_keys"], given["merge_keys"])
        return [
            f"FROM {root} as d WHERE EXISTS (SELECT 1 FROM {staging}"
            f" as s WHERE {cls._staging_rows_cond(clause.format(d='d', s='s'), source_filter)})"
            for clause in clauses
        ]

    @classmethod
    def _staging_rows_cond(cls, condition: str, source_filter: str | None) -> str:
        if hasattr(cls, "_gen_staging_rows_cond"):
            return str(cls._gen_staging_rows_cond(condition, source_filter))
        return condition


class _KeyByKeyMergeClient(DuckDbClient):
    def _create_merge_followup_jobs(
        self, table_chain: Sequence[PreparedTableSchema]
    ) -> list[FollowupJobRequest]:
        return [KeyByKeyMerge.from_table_chain(table_chain, self.sql_client)]


class duckdb(dlt.destinations.duckdb):  # noqa: N801 (named as dlt's, whose type it keeps)
    """dlt's DuckDB destination with `KeyByKeyMerge`; the same type and name as dlt's."""

    @property
    def destination_type(self) -> str:
        return DestinationReference.normalize_type("duckdb")

    @property
    def client_class(self) -> type[DuckDbClient]:
        return _KeyByKeyMergeClient


def duckdb_destination(path: str) -> dlt.destinations.duckdb:
    """dlt's DuckDB destination for the database file at `path`, merging key by key."""
    return duckdb(path)

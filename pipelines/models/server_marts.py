"""Swap freshly built marts into `analytics` on a server, in one transaction.

dbt builds and tests the marts in the shadow schema `analytics__build`. Only
when every model built and every test passed are they swapped in, in one
transaction, so a reader of `analytics` sees the previous build or the new
one, never half of either (PostgreSQL's MVCC: readers are not blocked).

Users build their own views on the marts. Nothing here drops with `cascade`:

* a mart that is new moves into `analytics` (`alter table ... set schema`);
* a mart whose columns are unchanged keeps its table, and with it every view
  on top of it: its rows are replaced (`delete` + `insert`);
* a mart that gained columns gets them added, then its rows replaced;
* a mart that lost or retyped a column is replaced only if no view depends on
  it; otherwise the swap stops, names the views and says what to do, and
  `analytics` keeps the previous build.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pipelines.models.errors import ModelBuildError
from pipelines.sql_text import quote_identifier as _quote
from pipelines.sql_text import quote_literal as _literal

logger = logging.getLogger("atera_sync.models")

Columns = list[tuple[str, str]]


class MartsBlocked(ModelBuildError):
    """A user's view depends on a column the new build no longer has."""


def relations(client: Any, schema: str) -> dict[str, str]:
    """Tables and views of `schema`: name -> `table` or `view`."""
    rows = client.execute_sql(
        "select table_name, table_type from information_schema.tables where table_schema = %s",
        schema,
    )
    return {str(name): "view" if kind == "VIEW" else "table" for name, kind in rows or []}


def columns_of(client: Any, schema: str, table: str) -> Columns:
    rows = client.execute_sql(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        schema,
        table,
    )
    return [(str(name), str(kind)) for name, kind in rows or []]


def dependent_views(client: Any, schema: str, table: str) -> list[str]:
    """Views (of any schema) whose definition reads `schema.table` (PostgreSQL catalog)."""
    rows = client.execute_sql(
        """
        select distinct view_ns.nspname || '.' || view_class.relname
        from pg_depend
        join pg_rewrite on pg_depend.objid = pg_rewrite.oid
        join pg_class as view_class on pg_rewrite.ev_class = view_class.oid
        join pg_namespace as view_ns on view_class.relnamespace = view_ns.oid
        join pg_class as table_class on pg_depend.refobjid = table_class.oid
        join pg_namespace as table_ns on table_class.relnamespace = table_ns.oid
        where table_ns.nspname = %s and table_class.relname = %s
          and view_class.oid <> table_class.oid
        order by 1
        """,
        schema,
        table,
    )
    return [str(name) for (name,) in rows or []]


def swap_in(client: Any, build_schema: str, target: str) -> list[str]:
    """Move the marts of `build_schema` into `target` in one transaction (see module doc).

    Returns:
        The marts swapped in.

    Raises:
        MartsBlocked: a view depends on a column that changed; nothing was swapped.
    """
    built = relations(client, build_schema)
    with client.begin_transaction():
        client.execute_sql(f"create schema if not exists {_quote(target)}")
        existing = relations(client, target)
        for name in sorted(built):
            _swap_one(client, build_schema, target, name, existing.get(name))
        client.execute_sql(f"drop schema if exists {_quote(build_schema)} cascade")
    return sorted(built)


def _swap_one(client: Any, build: str, target: str, name: str, existing: str | None) -> None:
    source = f"{_quote(build)}.{_quote(name)}"
    relation = f"{_quote(target)}.{_quote(name)}"
    if existing is None:
        client.execute_sql(f"alter table {source} set schema {_quote(target)}")
        return
    new = columns_of(client, build, name)
    old = columns_of(client, target, name) if existing == "table" else []
    views = dependent_views(client, target, name)
    if existing == "table" and (new == old or (old and _only_added(old, new))):
        for column, kind in new[len(old) :]:
            client.execute_sql(f"alter table {relation} add column {_quote(column)} {kind}")
        names = ", ".join(_quote(column) for column, _ in new)
        client.execute_sql(f"delete from {relation}")
        client.execute_sql(f"insert into {relation} ({names}) select {names} from {source}")
        _copy_comments(client, build, target, name)
        return
    if views:
        raise MartsBlocked(
            f"{target}.{name}",
            "sql/models/marts",
            f"its columns changed in this version and these views depend on it: "
            f"{', '.join(views)}; drop them (and create them again after this run), "
            f"then run `atera-sync models` again. {target} keeps its previous build",
            action="swap in",
        )
    client.execute_sql(f"drop {existing} {relation}")
    client.execute_sql(f"alter table {source} set schema {_quote(target)}")


def _only_added(old: Columns, new: Columns) -> bool:
    """The new build has the old columns first, same names and types, then more."""
    return new[: len(old)] == old


def _copy_comments(client: Any, build: str, target: str, name: str) -> None:
    rows = client.execute_sql(
        "select obj_description(%s::regclass, 'pg_class')", f"{_quote(build)}.{_quote(name)}"
    )
    comment = rows[0][0] if rows else None
    relation = f"{_quote(target)}.{_quote(name)}"
    if comment:
        client.execute_sql(f"comment on table {relation} is {_literal(comment)}")
    columns = client.execute_sql(
        "select attname, col_description(attrelid, attnum) from pg_attribute "
        "where attrelid = %s::regclass and attnum > 0 and not attisdropped",
        f"{_quote(build)}.{_quote(name)}",
    )
    for column, text in columns or []:
        if text:
            client.execute_sql(f"comment on column {relation}.{_quote(column)} is {_literal(text)}")


def remove_stale_marts(client: Any, built: Sequence[str], target: str) -> list[str]:
    """Drop relations of `target` that the project no longer builds, never with cascade:
    one a user's view still reads is kept, with a log line naming the view."""
    removed: list[str] = []
    for name, kind in sorted(relations(client, target).items()):
        if name in built:
            continue
        views = dependent_views(client, target, name)
        if views:
            logger.warning(
                "kept %s.%s, which the models no longer build, because %s read it",
                target,
                name,
                ", ".join(views),
            )
            continue
        client.execute_sql(f"drop {kind} if exists {_quote(target)}.{_quote(name)}")
        removed.append(f"{target}.{name}")
    if removed:
        logger.info("removed relations the models no longer build: %s", ", ".join(removed))
    return removed

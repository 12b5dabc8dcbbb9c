"""Quoting for SQL the project writes itself (identifiers and literals, standard SQL)."""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """A double-quoted identifier, inner quotes doubled: `my"table` -> `"my""table"`."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str | None) -> str:
    """A single-quoted string literal, inner quotes doubled; None -> `null`."""
    return "null" if text is None else "'" + text.replace("'", "''") + "'"

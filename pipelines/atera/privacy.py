"""Personal data controls: hash or drop columns before anything is written.

Configured in `[privacy]` (`.dlt/config.toml`, or `PRIVACY__HASH_COLUMNS='["end_user_email"]'`
and the like), with the key in `.dlt/secrets.toml`:

    [privacy]
    hash_columns = ["end_user_email", "email", ...]
    drop_columns = ["comment_text", "comment", ...]
    salt = "..."   # secrets.toml only

Column names are the raw tables' (snake_case of the API's fields). They apply
to every raw table that has the column, in the source, before dlt sees the
row: a dropped value never reaches a load package or the warehouse (its
declared column stays, empty, so models and dashboards keep working); a
hashed value is a keyed HMAC-SHA-256 of the text, stable across runs so that
joins and distinct counts still work, and useless without the salt. The
defaults keep everything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Optional

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from pipelines.atera.errors import ConfigurationError
from pipelines.atera.schema import RAW_TABLES

SECTION = "privacy"

RECOMMENDED_HASH_COLUMNS = (
    "end_user_email",
    "end_user_phone",
    "end_user_first_name",
    "end_user_last_name",
    "email",
    "first_name",
    "last_name",
)
RECOMMENDED_DROP_COLUMNS = (
    "comment_text",
    "comment",
    "comment_html",
    "description",
    "first_comment",
    "last_end_user_comment",
    "last_technician_comment",
    "notes",
)
"""The set the README recommends for SLA-only use: who and when, not what was written."""


@configspec
class PrivacyConfiguration(BaseConfiguration):
    """The `[privacy]` settings."""

    hash_columns: Optional[list[str]] = None  # noqa: UP045 (dlt resolves typing.Optional)
    drop_columns: Optional[list[str]] = None  # noqa: UP045
    salt: Optional[TSecretStrValue] = None  # noqa: UP045


@dataclass(frozen=True)
class Privacy:
    """What to hash and drop, and the key to hash with.

    Attributes:
        hash_columns: raw column names whose values are replaced by their HMAC.
        drop_columns: raw column names whose values are never written.
        salt: the HMAC key (required when anything is hashed).
    """

    hash_columns: frozenset[str] = frozenset()
    drop_columns: frozenset[str] = frozenset()
    salt: str | None = None

    def __post_init__(self) -> None:
        if self.hash_columns and not self.salt:
            raise ConfigurationError(
                "[privacy] hash_columns needs a key to hash with: set [privacy] salt in "
                ".dlt/secrets.toml (or PRIVACY__SALT) to a long random string, and keep it: "
                "another salt gives other hashes"
            )
        typed = _typed_columns()
        not_text = sorted(c for c in self.hash_columns if typed.get(c, "text") != "text")
        if not_text:
            raise ConfigurationError(
                f"[privacy] hash_columns {', '.join(not_text)}: only text columns can be "
                "hashed (the models compute with ids, dates and numbers); drop them instead"
            )
        both = self.hash_columns & self.drop_columns
        if both:
            raise ConfigurationError(
                f"[privacy] {', '.join(sorted(both))} is both in hash_columns and in "
                "drop_columns: keep it in one of them"
            )

    @property
    def active(self) -> bool:
        """Whether anything is hashed or dropped."""
        return bool(self.hash_columns or self.drop_columns)

    def hash_value(self, value: Any) -> Any:
        """The HMAC-SHA-256 (hex) of a value's text; None stays None."""
        if value is None:
            return None
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        key = (self.salt or "").encode()
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    def apply(self, row: dict[str, Any], column_of: Callable[[str], str]) -> dict[str, Any]:
        """Hash and drop the configured fields of one row, in place.

        Args:
            row: a record with the API's field names.
            column_of: field name -> raw column name (dlt's snake_case).
        """
        for field in list(row):
            column = column_of(field)
            if column in self.drop_columns:
                del row[field]
            elif column in self.hash_columns:
                row[field] = self.hash_value(row[field])
        return row

    def fingerprint(self) -> dict[str, Any]:
        """What was applied, to notice a change (the salt only as a keyed digest of itself)."""
        salt_id = self.hash_value("atera-sync salt id") if self.salt else None
        return {
            "hash_columns": sorted(self.hash_columns),
            "drop_columns": sorted(self.drop_columns),
            "salt_id": salt_id,
        }


def _typed_columns() -> dict[str, str]:
    """Declared raw column -> its data type (a name used in several tables: any non-text)."""
    types: dict[str, str] = {}
    for table in RAW_TABLES.values():
        for column in table.columns:
            if types.get(column.name, "text") == "text":
                types[column.name] = column.data_type
    return types


def _names(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(str(v).strip().lower() for v in values or () if str(v).strip())


def load_privacy() -> Privacy:
    """Resolve `[privacy]` from the environment, `.dlt/secrets.toml` and `.dlt/config.toml`.

    Raises:
        ConfigurationError: the settings cannot be read, or hashing has no salt.
    """
    try:
        config = resolve_configuration(PrivacyConfiguration(), sections=(SECTION,))
    except Exception as exc:  # dlt raises its own config errors; show them plainly
        raise ConfigurationError(f"cannot read [privacy] settings: {exc}") from exc
    return Privacy(
        hash_columns=_names(config.hash_columns),
        drop_columns=_names(config.drop_columns),
        salt=str(config.salt) if config.salt else None,
    )

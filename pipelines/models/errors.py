"""Exceptions raised while building the SQL models.

The tree::

    ModelsError                 base class: anything that stopped `run_models`
    ├── ModelSettingsError      a `[models]` setting is missing or invalid (nothing was built)
    ├── ModelProjectError       dbt could not read the project under `sql/` (nothing was built)
    ├── ModelBuildError         the warehouse rejected a model; the marts were not replaced
    └── DataTestFailed          a data test failed; the marts were not replaced

The marts in `analytics` are replaced only when every model built and every
test passed: when any of these is raised, `analytics` is as it was before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class ModelsError(Exception):
    """Base class of every error raised while building the SQL models."""


class ModelSettingsError(ModelsError, ValueError):
    """A `[models]` setting is invalid; fix `.dlt/config.toml` or the `MODELS__...` variable."""


class ModelProjectError(ModelsError):
    """dbt could not parse or compile the project under `sql/`; the message says where."""


class ModelBuildError(ModelsError):
    """The warehouse rejected a model; the message names it and gives the database's error."""

    def __init__(self, relation: str, path: str, cause: object, action: str = "build") -> None:
        super().__init__(
            f"could not {action} {relation} from {path}: {cause}\n"
            "Nothing was published: the analytics schema is unchanged."
        )
        self.relation = relation
        self.path = path


@dataclass(frozen=True)
class DataTestFailure:
    """One failing data test: its name, file, dbt's message and the first offending rows."""

    name: str
    path: str
    message: str
    columns: list[str] = field(default_factory=list)
    sample_rows: list[tuple[Any, ...]] = field(default_factory=list)

    def describe(self) -> str:
        """A few lines naming the test and showing the offending rows."""
        lines = [f"data test {self.name} ({self.path}): {self.message}, e.g.:"]
        for row in self.sample_rows:
            pairs = ", ".join(
                f"{col}={value!r}" for col, value in zip(self.columns, row, strict=False)
            )
            lines.append(f"    {pairs}")
        return "\n".join(lines)


class DataTestFailed(ModelsError):
    """One or more data tests failed; the marts in `analytics` were not replaced."""

    def __init__(self, failures: Sequence[DataTestFailure]) -> None:
        names = ", ".join(failure.name for failure in failures)
        details = "\n".join(failure.describe() for failure in failures)
        super().__init__(
            f"{len(failures)} data test(s) failed: {names}\n{details}\n"
            "Nothing was committed: the analytics schema is unchanged."
        )
        self.failures = list(failures)

    @property
    def test_names(self) -> list[str]:
        """Names of the failing tests."""
        return [failure.name for failure in self.failures]

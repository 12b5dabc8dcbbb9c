"""Exceptions raised while building the SQL models.

The tree::

    ModelsError                 base class: anything that stopped `run_models`
    ├── ModelSettingsError      a `[models]` setting is missing or invalid (nothing was built)
    ├── ModelProjectError       the `sql/` folder is inconsistent (nothing was built)
    │   ├── ModelReferenceError a model reads a model that does not exist
    │   └── ModelCycleError     models read each other in a circle
    ├── ModelBuildError         DuckDB rejected a model, a data test or the raw
    │                           contract; the whole run was rolled back
    └── DataTestFailed          a data test returned rows; the whole run was rolled back

Every run is one transaction: when any of these is raised after building
started, the database is left exactly as it was before the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class ModelsError(Exception):
    """Base class of every error raised while building the SQL models."""


class ModelSettingsError(ModelsError, ValueError):
    """A `[models]` setting is invalid; fix `.dlt/config.toml` or the `MODELS__...` variable."""


class ModelProjectError(ModelsError):
    """The SQL files cannot be ordered into a build; fix the files under `sql/`."""


class ModelReferenceError(ModelProjectError):
    """A model reads a relation of a model schema that no SQL file defines."""


class ModelCycleError(ModelProjectError):
    """Models depend on each other in a cycle, so no build order exists."""

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__("models depend on each other in a cycle: " + " -> ".join(cycle))
        self.cycle = list(cycle)


class ModelBuildError(ModelsError):
    """DuckDB rejected a model, a data test or the raw contract; the message names it."""

    def __init__(self, relation: str, path: str, cause: Exception, action: str = "build") -> None:
        super().__init__(f"could not {action} {relation} from {path}: {cause}")
        self.relation = relation
        self.path = path


@dataclass(frozen=True)
class DataTestFailure:
    """One failing data test: its name, how many rows it returned and the first few."""

    name: str
    path: str
    row_count: int
    columns: list[str]
    sample_rows: list[tuple[Any, ...]]

    def describe(self) -> str:
        """Return a few lines naming the test and showing the offending rows."""
        lines = [f"data test {self.name} ({self.path}) returned {self.row_count} row(s), e.g.:"]
        for row in self.sample_rows:
            pairs = ", ".join(
                f"{col}={value!r}" for col, value in zip(self.columns, row, strict=False)
            )
            lines.append(f"    {pairs}")
        return "\n".join(lines)


class DataTestFailed(ModelsError):
    """One or more data tests returned rows; nothing of the run was committed."""

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
        """Names of the failing tests (file names without `.sql`)."""
        return [failure.name for failure in self.failures]

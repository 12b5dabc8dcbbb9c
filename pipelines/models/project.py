"""Find the SQL files, work out what each one reads, and order them for a build.

Layout (one model per file, the file name is the relation name)::

    sql/staging/<name>.sql       -> view  staging.<name>
    sql/intermediate/<name>.sql  -> table intermediate.<name>
    sql/marts/<name>.sql         -> table analytics.<name>
    sql/tests/<name>.sql         -> data test: must return zero rows

Dependencies are the `staging.x`, `intermediate.x` and `analytics.x` names a
file mentions outside comments and string literals; the build order is a
topological sort of them (ties broken by layer, then name, so it is stable).
So never name a CTE or an alias `staging`, `intermediate` or `analytics`.
Relations of `raw_contract` and `model_inputs` are created by the runner
before any model and are not dependencies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pipelines
from pipelines.models.errors import ModelCycleError, ModelReferenceError

LAYERS: tuple[tuple[str, str, str], ...] = (
    # (folder, schema, materialization)
    ("staging", "staging", "view"),
    ("intermediate", "intermediate", "table"),
    ("marts", "analytics", "table"),
)
MODEL_SCHEMAS: tuple[str, ...] = tuple(schema for _, schema, _ in LAYERS)
TESTS_FOLDER = "tests"

_COMMENTS_AND_STRINGS = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
_REFERENCE = re.compile(
    r'(?<![\w."])"?(' + "|".join(MODEL_SCHEMAS) + r')"?\s*\.\s*"?([a-z_][a-z0-9_]*)"?',
    re.IGNORECASE,
)


def sql_dir() -> Path:
    """Where the SQL files are: inside the installed package, else the repository's `sql/`."""
    package_dir = Path(pipelines.__file__).parent
    packaged = package_dir / "sql"
    if packaged.is_dir():
        return packaged
    return package_dir.parent / "sql"


def read_sql(path: Path) -> str:
    """The file's statement without trailing semicolons, ready to wrap in DDL."""
    return path.read_text(encoding="utf-8").strip().rstrip(";").rstrip()


def references(sql: str) -> set[str]:
    """Relations of the model schemas that a statement reads, as `schema.name`."""
    code = _COMMENTS_AND_STRINGS.sub(" ", sql)
    return {f"{schema.lower()}.{name.lower()}" for schema, name in _REFERENCE.findall(code)}


@dataclass(frozen=True)
class Model:
    """One SQL file that builds one relation."""

    relation: str
    schema: str
    name: str
    materialization: str
    layer_rank: int
    path: Path
    sql: str
    depends_on: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class DataTest:
    """One SQL file under `sql/tests/` that must return zero rows."""

    name: str
    path: Path
    sql: str


@dataclass(frozen=True)
class Project:
    """The models in build order and the data tests."""

    models: list[Model]
    tests: list[DataTest]


def _load_models(root: Path) -> list[Model]:
    models: list[Model] = []
    for rank, (folder, schema, materialization) in enumerate(LAYERS):
        for path in sorted((root / folder).glob("*.sql")):
            sql = read_sql(path)
            relation = f"{schema}.{path.stem}"
            models.append(
                Model(
                    relation=relation,
                    schema=schema,
                    name=path.stem,
                    materialization=materialization,
                    layer_rank=rank,
                    path=path,
                    sql=sql,
                    depends_on=frozenset(references(sql) - {relation}),
                )
            )
    return models


def build_order(models: Iterable[Model]) -> list[Model]:
    """Order models so that each comes after everything it reads.

    Raises:
        ModelReferenceError: a model reads a model relation no file defines.
        ModelCycleError: no order exists; the message lists the cycle.
    """
    by_relation = {model.relation: model for model in models}
    for model in by_relation.values():
        missing = sorted(model.depends_on - by_relation.keys())
        if missing:
            raise ModelReferenceError(
                f"{model.path.name} reads {', '.join(missing)}, which no SQL file defines "
                f"(expected sql/<layer>/<name>.sql for each)"
            )

    def sort_key(relation: str) -> tuple[int, str]:
        return by_relation[relation].layer_rank, relation

    ordered: list[Model] = []
    state: dict[str, str] = {}  # relation -> "visiting" | "done"

    def visit(relation: str, path: list[str]) -> None:
        if state.get(relation) == "done":
            return
        if state.get(relation) == "visiting":
            raise ModelCycleError([*path[path.index(relation) :], relation])
        state[relation] = "visiting"
        for dependency in sorted(by_relation[relation].depends_on, key=sort_key):
            visit(dependency, [*path, relation])
        state[relation] = "done"
        ordered.append(by_relation[relation])

    for relation in sorted(by_relation, key=sort_key):
        visit(relation, [])
    return ordered


def load_project(root: Path | None = None) -> Project:
    """Read every model and data test under `root` (default: `sql_dir()`).

    Raises:
        ModelReferenceError, ModelCycleError: see `build_order`.
    """
    root = root or sql_dir()
    tests = [
        DataTest(name=path.stem, path=path, sql=read_sql(path))
        for path in sorted((root / TESTS_FOLDER).glob("*.sql"))
    ]
    return Project(models=build_order(_load_models(root)), tests=tests)

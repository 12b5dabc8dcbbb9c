"""What dbt gives a template and sqlfluff's jinja templater does not, for `sqlfluff lint sql`.

`.sqlfluff` names this package as the jinja templater's `library_path`: every public
name below becomes a template global. sqlfluff's `apply_dbt_builtins` already mocks
`ref`, `source`, `config` and `return`; the project's macros (`load_macros_from_path`)
also use `adapter.dispatch`, call each other as `atera_sync.<macro>`, read vars and
use `modules` and `exceptions`. Here:

* `var(name)` returns the default from `dbt_project.yml`, and `env_var(name, default)`
  the default, so models render as `dbt build` without `--vars` renders them;
* `adapter.dispatch(name)` picks `duckdb__<name>`, else `default__<name>`: files are
  linted as the DuckDB SQL dbt would build (`.sqlfluff` sets the duckdb dialect);
* `atera_sync.<name>` is the project's macro `<name>`;
* `dbt.<name>` is dbt's cross-database macro `<name>` (macros/utils of dbt's global
  project and of dbt-duckdb, read from the installed packages).

Nothing here runs SQL; it only has to render what dbt would render.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pytz
import yaml
from jinja2.runtime import Context

try:  # sqlfluff 4 mocks dbt's `return()` by raising this out of the macro
    from sqlfluff.core.templaters.builtins.dbt import MacroReturn
except ImportError:  # older sqlfluff: `return()` is not mocked, nothing is raised

    class MacroReturn(Exception):  # type: ignore[no-redef]
        value: Any = None


ADAPTER_TYPE = "duckdb"
"""The adapter whose `<adapter>__` macros are rendered; `default__` otherwise."""

_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project.yml"
_VARS: dict[str, Any] = yaml.safe_load(_PROJECT_FILE.read_text(encoding="utf-8"))["vars"]


def _call_macro(macro: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # dbt's `return(value)` raises out of the macro; a call from Python must catch it.
    try:
        return macro(*args, **kwargs)
    except MacroReturn as returned:
        return returned.value


def _resolve(context: Context, name: str) -> Callable[..., Any] | None:
    found = context.resolve_or_missing(name)
    return None if found is jinja2.runtime.missing else found


def var(name: str, default: Any = None) -> Any:
    """dbt's `var()`: the project's default for `name`."""
    return _VARS.get(name, default)


def env_var(name: str, default: str | None = None) -> str | None:
    """dbt's `env_var()`: the default, so that linting does not depend on the environment."""
    return default


class _Adapter:
    type = ADAPTER_TYPE

    @jinja2.pass_context
    def dispatch(
        self, context: Context, macro_name: str, macro_namespace: str | None = None
    ) -> Callable[..., Any]:
        for prefix in (ADAPTER_TYPE, "default"):
            macro = _resolve(context, f"{prefix}__{macro_name}")
            if macro is not None:
                return lambda *args, **kwargs: _call_macro(macro, *args, **kwargs)
        raise RuntimeError(f"no {ADAPTER_TYPE}__ or default__ implementation of {macro_name}")


class _ProjectMacros:
    """`atera_sync.<name>`: the project's macro of that name."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        @jinja2.pass_context
        def call(context: Context, *args: Any, **kwargs: Any) -> Any:
            macro = _resolve(context, name)
            if macro is None:
                raise RuntimeError(f"no macro named {name} in sql/macros")
            return _call_macro(macro, *args, **kwargs)

        return call


@functools.cache
def _dbt_utils_sources() -> tuple[str, ...]:
    # dbt's own cross-database macros, the adapter's after the defaults
    sources = []
    for package in ("dbt.include.global_project", f"dbt.include.{ADAPTER_TYPE}"):
        folder = resources.files(package) / "macros" / "utils"
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".sql"):
                sources.append(entry.read_text(encoding="utf-8"))
    return tuple(sources)


@functools.lru_cache(maxsize=4)
def _dbt_utils_templates(environment: jinja2.Environment) -> tuple[jinja2.Template, ...]:
    templates = []
    for source in _dbt_utils_sources():
        try:
            templates.append(environment.from_string(source))
        except jinja2.TemplateSyntaxError:
            continue  # a tag this environment lacks (e.g. `continue`); not a macro we use
    return tuple(templates)


def _dbt_utils_macros(context: Context) -> dict[str, Any]:
    # Two passes, so that a macro can call one of another file (e.g. a dispatch target).
    found: dict[str, Any] = {}
    for _ in range(2):
        names = context.get_all() | found
        for template in _dbt_utils_templates(context.environment):
            module = template.make_module(vars=names)
            found |= {
                key: value
                for key, value in vars(module).items()
                if isinstance(value, jinja2.runtime.Macro)
            }
    return found


class _DbtMacros:
    """`dbt.<name>`: dbt's cross-database macro of that name (e.g. `dbt.date_trunc`)."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        @jinja2.pass_context
        def call(context: Context, *args: Any, **kwargs: Any) -> Any:
            macro = _dbt_utils_macros(context).get(name)
            if macro is None:
                raise RuntimeError(f"dbt has no cross-database macro named {name}")
            return _call_macro(macro, *args, **kwargs)

        return call


class _Modules:
    datetime = datetime
    itertools = itertools
    pytz = pytz
    re = re


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message: str) -> None:
        raise RuntimeError(message)

    @staticmethod
    def warn(message: str) -> str:
        return ""


class _Target:
    type = ADAPTER_TYPE
    name = ADAPTER_TYPE
    schema = "analytics"


adapter = _Adapter()
atera_sync = _ProjectMacros()
dbt = _DbtMacros()
modules = _Modules()
exceptions = _Exceptions()
target = _Target()

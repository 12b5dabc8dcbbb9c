"""The scheduler recipes in deploy/ are valid and call `run` and `status` as documented."""

from __future__ import annotations

import ast
import os
import py_compile
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import config_for

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
INSTALLED = "/opt/atera-sync/.venv/bin/atera-sync"
ATERA_SYNC = Path(sys.executable).with_name("atera-sync")


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("SKIPPED LOUDLY: systemd-analyze is not installed; the units are unverified")
    units = sorted((DEPLOY / "systemd").iterdir())
    assert {u.name for u in units} >= {
        "atera-sync.service",
        "atera-sync.timer",
        "atera-sync-status.service",
        "atera-sync-status.timer",
    }
    for unit in units:
        # verify checks that ExecStart exists: point it at this environment's command
        text = unit.read_text().replace(INSTALLED, str(ATERA_SYNC))
        (tmp_path / unit.name).write_text(text)
    completed = subprocess.run(
        [analyze, "verify", "--man=no", *(f"./{u.name}" for u in units)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "ignoring" not in output and "Unknown" not in output, output
    service = (DEPLOY / "systemd" / "atera-sync.service").read_text()
    assert f"ExecStart={INSTALLED} run" in service
    assert "SuccessExitStatus=3" in service
    status = (DEPLOY / "systemd" / "atera-sync-status.service").read_text()
    assert f"ExecStart={INSTALLED} status" in status and "--max-age 26h" in status


def test_github_actions_workflow_restores_syncs_saves_and_checks() -> None:
    workflow = yaml.safe_load((DEPLOY / "github-actions" / "atera-sync.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert triggers["schedule"][0]["cron"] == "15 2 * * *"
    job = workflow["jobs"]["sync"]
    assert job["env"]["SOURCES__ATERA__API_KEY"] == "${{ secrets.ATERA_API_KEY }}"
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    runs = [s.get("run", "") for s in steps]
    restore = uses.index("actions/cache/restore@v4")
    sync = next(i for i, r in enumerate(runs) if "atera-sync run" in r)
    save = uses.index("actions/cache/save@v4")
    status = next(i for i, r in enumerate(runs) if "atera-sync status" in r)
    assert restore < sync < save < status
    assert steps[save]["if"] == "always()" and steps[status]["if"] == "always()"
    assert steps[restore]["with"]["path"] == steps[save]["with"]["path"] == "data"


def test_the_cron_lines_run_and_mail_only_when_not_fresh(tmp_path: Path) -> None:
    lines = [
        line
        for line in (DEPLOY / "cron" / "atera-sync.cron").read_text().splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(lines) == 2
    commands = [line.split(None, 5)[5] for line in lines]
    assert "atera-sync run" in commands[0] and "atera-sync status" in commands[1]
    # the check as cron runs it (sh), in a folder with no warehouse yet: exit 6, and output
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "atera-sync").symlink_to(ATERA_SYNC)
    check = commands[1].replace("/srv/atera-sync", str(tmp_path))
    completed = subprocess.run(["sh", "-c", check], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0  # the echo ran: cron mails its output
    assert "no warehouse at data/atera.duckdb" in completed.stdout


@pytest.fixture
def airflow_stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Minimal `airflow` and dlt helper modules, when Airflow itself is not installed."""
    try:
        import airflow  # noqa: F401

        yield
        return
    except ImportError:
        pass

    class Group:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.kwargs = kwargs

        def __enter__(self) -> Group:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    class Operator:
        def __init__(self, task_id: str, python_callable: Any, **kwargs: Any) -> None:
            self.task_id, self.python_callable, self.kwargs = task_id, python_callable, kwargs

        def __rshift__(self, other: Operator) -> Operator:
            return other

    class AirflowException(Exception):
        pass

    class AirflowSkipException(AirflowException):
        pass

    modules = {
        "airflow": {"DAG": Group},
        "airflow.exceptions": {
            "AirflowException": AirflowException,
            "AirflowSkipException": AirflowSkipException,
        },
        "airflow.operators": {},
        "airflow.operators.python": {"PythonOperator": Operator},
        "dlt.helpers.airflow_helper": {"PipelineTasksGroup": Group},
    }
    for name, attributes in modules.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, module)
    yield


def load_dag(duckdb_path: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    monkeypatch.setenv("ATERA_DUCKDB", str(duckdb_path))
    path = DEPLOY / "airflow" / "atera_sync_dag.py"
    module = types.ModuleType("atera_sync_dag")
    module.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def test_airflow_dag_uses_dlts_task_group_and_wires_status(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    airflow_stand_in: None,
    sandbox: AteraSandbox,
) -> None:
    path = DEPLOY / "airflow" / "atera_sync_dag.py"
    py_compile.compile(str(path), cfile=str(tmp_path / "dag.pyc"), doraise=True)
    imported = {
        node.module
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
    }
    assert "dlt.helpers.airflow_helper" in imported

    duckdb_path = tmp_path / "data" / "atera.duckdb"
    dag = load_dag(duckdb_path, monkeypatch)
    with pytest.raises(Exception, match="exit 6"):
        dag.check_freshness()
    run_sync(config_for(sandbox), duckdb_path)
    assert dag.check_freshness() == "fresh"
    assert os.environ["ATERA_DUCKDB"] == str(duckdb_path)

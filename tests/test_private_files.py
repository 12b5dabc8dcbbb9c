"""Only the owner can read what a sync writes, whatever the umask (files 0600, folders 0700)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines import cli
from pipelines.models import run_models
from pipelines.private_files import (
    copy_private,
    ensure_private_dir,
    private_umask,
    report_tightened,
    tighten,
    warn_if_readable_secrets,
)
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from pipelines.warehouse import Warehouse
from tests.conftest import TEST_API_KEY, config_for

FILES_LOGGER = "atera_sync.files"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Every process-created file readable (and writable) by everyone unless the code says no."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_to_others(*roots: Path) -> list[str]:
    """Every file and folder under the roots that group or others have any permission on."""
    return [
        f"{mode_of(path):04o} {path}"
        for root in roots
        for path in root.rglob("*")
        if not path.is_symlink() and mode_of(path) & 0o077
    ]


def build_models(work: Path, data_as_of: datetime | None) -> None:
    with duckdb.connect(str(work)) as con:
        run_models(con, data_as_of=data_as_of)


def tightening_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == FILES_LOGGER]


@pytest.mark.parametrize("dbt_folder", ["shared", "beside the warehouse"])
def test_a_sync_under_umask_0_leaves_nothing_that_others_can_read(
    sandbox: AteraSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    permissive_umask: None,
    dbt_folder: str,
) -> None:
    if dbt_folder == "beside the warehouse":
        monkeypatch.delenv("ATERA_DBT_WORK_DIR")
    data = tmp_path / "data"
    warehouse = Warehouse.at(data / "atera.duckdb")

    run_sync(config_for(sandbox), warehouse.published, after_load=build_models)
    sandbox.advance(300)
    run_sync(config_for(sandbox), warehouse.published, after_load=build_models)

    dbt_work = warehouse.dbt_work_dir
    assert (dbt_folder == "shared") != dbt_work.is_relative_to(data)
    # the walk below is not vacuous: every kind of file is there
    for path in (warehouse.published, warehouse.work, warehouse.lock_file):
        assert mode_of(path) == 0o600, path
    for folder in (warehouse.pipelines_dir, dbt_work):
        assert mode_of(folder) == 0o700, folder
    assert any(p.is_file() for p in warehouse.pipelines_dir.rglob("*"))
    assert (dbt_work / "target" / "manifest.json").is_file()
    assert (dbt_work / "logs" / "dbt.log").is_file()
    assert open_to_others(data, dbt_work) == []
    assert os.umask(0) == 0  # the library call did not change the caller's umask


def test_the_command_runs_under_a_private_umask_and_restores_it(
    sandbox: AteraSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    permissive_umask: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCES__ATERA__API_KEY", TEST_API_KEY)
    args = ["run", "--skip-models", "--base-url", sandbox.base_url]
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    data = tmp_path / "data"
    assert (data / "atera.duckdb").is_file()
    # the folder the command created, and everything in it
    assert mode_of(data) == 0o700
    assert open_to_others(data) == []
    assert os.umask(0) == 0  # restored when the command ended


def test_an_existing_readable_warehouse_is_tightened_on_the_next_run_with_one_log_line(
    sandbox: AteraSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse = Warehouse.at(tmp_path / "data" / "atera.duckdb")
    run_sync(config_for(sandbox), warehouse.published)
    # as an earlier version left them under umask 022
    warehouse.published.chmod(0o644)
    warehouse.work.chmod(0o644)
    warehouse.pipelines_dir.chmod(0o755)

    with caplog.at_level(logging.INFO, logger=FILES_LOGGER):
        run_sync(config_for(sandbox), warehouse.published)

    assert mode_of(warehouse.published) == 0o600
    assert mode_of(warehouse.work) == 0o600
    assert mode_of(warehouse.pipelines_dir) == 0o700
    [line] = tightening_lines(caplog)
    assert "atera.duckdb" in line and ".atera.work.duckdb" in line and ".atera.dlt/" in line
    assert "readable by their owner only" in line

    caplog.clear()
    with caplog.at_level(logging.INFO, logger=FILES_LOGGER):
        run_sync(config_for(sandbox), warehouse.published)
    assert tightening_lines(caplog) == []  # nothing left to tighten: no line


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_secrets_file_that_others_can_read_gets_one_warning_naming_it_and_the_fix(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mode: int,
    warned: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    secrets = tmp_path / ".dlt" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[sources.atera]\napi_key = "not-a-real-key"\n', encoding="utf-8")
    secrets.chmod(mode)

    with caplog.at_level(logging.WARNING, logger=FILES_LOGGER):
        result = CliRunner().invoke(cli.main, ["sandbox", "--help"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    lines = [line for line in tightening_lines(caplog) if "secrets.toml" in line]
    if warned:
        [line] = lines
        assert ".dlt/secrets.toml" in line and "chmod 600 .dlt/secrets.toml" in line
        assert "not-a-real-key" not in line
    else:
        assert lines == []
    assert mode_of(secrets) == mode  # a warning only: the file is the user's


def test_the_docs_page_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, permissive_umask: None
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli.main, ["docs", "--duckdb", "missing.duckdb"], catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    page = tmp_path / "site" / "dbt-docs" / "index.html"
    assert page.is_file()
    assert mode_of(page) == 0o600
    assert mode_of(tmp_path / "site") == mode_of(page.parent) == 0o700


# -- the building blocks -----------------------------------------------------------


def test_private_umask_keeps_stricter_bits_and_restores_the_previous_umask(
    tmp_path: Path,
) -> None:
    previous = os.umask(0o002)
    try:
        with private_umask():
            (tmp_path / "new").write_text("x")
            assert os.umask(0o277) == 0o077  # (read it by setting it)
        assert os.umask(0o002) == 0o002
        os.umask(0o277)
        with private_umask():
            assert os.umask(0o277) == 0o277
    finally:
        os.umask(previous)
    assert mode_of(tmp_path / "new") == 0o600


def test_copy_private_makes_a_new_or_existing_target_0600(
    tmp_path: Path, permissive_umask: None
) -> None:
    source = tmp_path / "source"
    source.write_bytes(b"names and emails")
    source.chmod(0o644)
    existing = tmp_path / "existing"
    existing.write_bytes(b"old")
    existing.chmod(0o666)

    copy_private(source, tmp_path / "new")
    copy_private(source, existing)

    for target in (tmp_path / "new", existing):
        assert target.read_bytes() == b"names and emails"
        assert mode_of(target) == 0o600


def test_ensure_private_dir_creates_0700_folders_and_leaves_an_existing_parent_alone(
    tmp_path: Path, permissive_umask: None
) -> None:
    parent = tmp_path / "shared"
    parent.mkdir(mode=0o755)
    ensure_private_dir(parent / "a" / "b")
    ensure_private_dir(parent, tighten_existing=False)

    assert mode_of(parent) == 0o755
    assert mode_of(parent / "a") == mode_of(parent / "a" / "b") == 0o700
    (parent / "c").mkdir(mode=0o755)
    ensure_private_dir(parent / "c")
    assert mode_of(parent / "c") == 0o700


def test_tighten_strips_group_and_other_bits_recursively_and_skips_links(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "file").write_text("x")
    (folder / "script").write_text("x")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("x")
    (folder / "link").symlink_to(elsewhere)
    for path, mode in [
        (folder, 0o755),
        (folder / "sub", 0o750),
        (folder / "sub" / "file", 0o644),
        (folder / "script", 0o700),
        (elsewhere, 0o644),
    ]:
        path.chmod(mode)

    changed = tighten([folder, tmp_path / "missing"])

    assert sorted(changed) == sorted([folder, folder / "sub", folder / "sub" / "file"])
    assert mode_of(folder) == mode_of(folder / "sub") == mode_of(folder / "script") == 0o700
    assert mode_of(folder / "sub" / "file") == 0o600
    assert mode_of(elsewhere) == 0o644  # a link's target is not ours
    assert tighten([folder]) == []


def test_the_tightening_line_counts_what_changed_inside_a_folder_under_its_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "dlt" / "load").mkdir(parents=True)
    (tmp_path / "dlt" / "load" / "rows.parquet").write_text("x")
    (tmp_path / "atera.duckdb").write_text("x")
    for path in [tmp_path / "atera.duckdb", *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)

    with caplog.at_level(logging.INFO, logger=FILES_LOGGER):
        report_tightened(tighten([tmp_path / "atera.duckdb", tmp_path / "dlt"]), tmp_path)
        report_tightened([], tmp_path)

    [line] = tightening_lines(caplog)
    assert line.startswith(f"made 4 file(s) and folder(s) in {tmp_path} ")
    assert line.endswith(": atera.duckdb, dlt/ (3)")


def test_warn_if_readable_secrets_is_quiet_for_a_missing_file(tmp_path: Path) -> None:
    assert warn_if_readable_secrets(tmp_path / "secrets.toml") is False

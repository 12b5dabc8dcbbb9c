"""[privacy]: columns hashed or dropped before anything is written, and in rows already loaded."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.atera.errors import ConfigurationError
from pipelines.atera.privacy import (
    RECOMMENDED_DROP_COLUMNS,
    RECOMMENDED_HASH_COLUMNS,
    Privacy,
    load_privacy,
)
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for

SALT = "a-long-random-test-salt-8c1f"
SLA_ONLY = Privacy(
    hash_columns=frozenset(RECOMMENDED_HASH_COLUMNS),
    drop_columns=frozenset(RECOMMENDED_DROP_COLUMNS),
    salt=SALT,
)


def hmac_of(text: str) -> str:
    """What a hashed value must be, computed here independently of the code."""
    return hmac.new(SALT.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_hashing_needs_a_salt_and_a_column_is_hashed_or_dropped_not_both() -> None:
    with pytest.raises(ConfigurationError, match=r"\[privacy\] salt"):
        Privacy(hash_columns=frozenset({"email"}))
    with pytest.raises(ConfigurationError, match="both in hash_columns and in drop_columns"):
        Privacy(hash_columns=frozenset({"email"}), drop_columns=frozenset({"email"}), salt="s")
    assert not Privacy().active


def test_hashes_are_keyed_stable_and_never_the_input() -> None:
    privacy = Privacy(hash_columns=frozenset({"email"}), salt=SALT)
    assert privacy.hash_value("ann@example.com") == hmac_of("ann@example.com")
    assert privacy.hash_value("ann@example.com") != "ann@example.com"
    assert privacy.hash_value(None) is None
    other = Privacy(hash_columns=frozenset({"email"}), salt="another salt")
    assert other.hash_value("ann@example.com") != privacy.hash_value("ann@example.com")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVACY__HASH_COLUMNS", '["End_User_Email"]')
    monkeypatch.setenv("PRIVACY__DROP_COLUMNS", '["comment_text"]')
    monkeypatch.setenv("PRIVACY__SALT", SALT)
    privacy = load_privacy()
    assert privacy.hash_columns == {"end_user_email"}
    assert privacy.drop_columns == {"comment_text"}
    monkeypatch.delenv("PRIVACY__SALT")
    with pytest.raises(ConfigurationError, match="salt"):
        load_privacy()


@pytest.fixture(params=["contract", "published"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[AteraSandbox]:
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=60, seed=9, rate_limit=None, api_shape=request.param
    ) as server:
        yield server


def every_file(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def known_texts(sandbox: AteraSandbox) -> tuple[str, str]:
    """A comment text and an end-user email that the sandbox serves."""
    snapshot = sandbox.snapshot()
    comment = next(
        c.get("CommentText") or c.get("Comment")
        for c in snapshot["comments"]
        if len(c.get("CommentText") or c.get("Comment") or "") > 20
    )
    email = next(t["EndUserEmail"] for t in snapshot["tickets"] if t.get("EndUserEmail"))
    return comment, email


def column_values(db: Path, table: str, column: str) -> list[object]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [v for (v,) in con.execute(f"select {column} from atera_raw.{table}").fetchall()]


def test_a_sync_hashes_and_drops_before_anything_is_written(
    sandbox: AteraSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "data" / "atera.duckdb"
    comment, email = known_texts(sandbox)
    run_sync(config_for(sandbox), db, privacy=SLA_ONLY)

    emails = {t["EndUserEmail"] for t in sandbox.snapshot()["tickets"] if t.get("EndUserEmail")}
    hashed = set(column_values(db, "tickets", "end_user_email")) - {None}
    assert hashed == {hmac_of(e) for e in emails}
    for table, column in [("comments", "comment_text"), ("comments", "comment"),
                          ("tickets", "description"), ("work_hours", "notes")]:  # fmt: skip
        assert set(column_values(db, table, column)) <= {None}, (table, column)
    # the comments are all there, with their authors and dates
    assert len(column_values(db, "comments", "comment_key")) == len(sandbox.snapshot()["comments"])
    for path in every_file(db.parent):
        data = path.read_bytes()
        assert comment.encode() not in data, path
        assert email.encode() not in data, path


def test_the_sla_marts_are_the_same_with_and_without_privacy(
    sandbox: AteraSandbox, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from pipelines.models import run_models

    as_of = datetime(2026, 12, 1, tzinfo=UTC)
    marts = {}
    for label, privacy in (("plain", Privacy()), ("private", SLA_ONLY)):
        db = tmp_path / label / "atera.duckdb"
        run_sync(config_for(sandbox), db, privacy=privacy)
        work = db.with_name(".atera.work.duckdb")
        with duckdb.connect(str(work)) as con:
            run_models(con, as_of=as_of)
            marts[label] = [
                con.execute(f"select * from analytics.{mart} order by all").fetchall()
                for mart in (
                    "fct_ticket_first_response_sla",
                    "sla_first_response_by_priority",
                    "sla_first_response_by_technician",
                    "work_hours_by_customer_technician_month",
                )
            ]
    assert marts["private"] == marts["plain"]
    assert marts["plain"][0]  # there is something to compare


def test_new_settings_rewrite_the_rows_already_loaded_into_a_fresh_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="atera_sync")
    db = tmp_path / "data" / "atera.duckdb"
    with AteraSandbox(api_key=TEST_API_KEY, tickets=60, seed=9, rate_limit=None) as sandbox:
        comment, email = known_texts(sandbox)
        run_sync(config_for(sandbox), db, privacy=Privacy())
        # a plain warehouse holds the texts: the search below can find them
        assert any(email.encode() in p.read_bytes() for p in every_file(db.parent))
        run_sync(config_for(sandbox), db, privacy=SLA_ONLY)
        assert "applied to the rows already loaded" in caplog.text
        assert "rewrote .atera.work.duckdb into a fresh file" in caplog.text
        assert set(column_values(db, "tickets", "end_user_email")) - {None} == {
            hmac_of(t["EndUserEmail"])
            for t in sandbox.snapshot()["tickets"]
            if t.get("EndUserEmail")
        }
        assert set(column_values(db, "comments", "comment_text")) <= {None}
        for path in every_file(db.parent):
            data = path.read_bytes()
            assert comment.encode() not in data, path
            assert email.encode() not in data, path
        # the same settings again: nothing to redo
        caplog.clear()
        run_sync(config_for(sandbox), db, privacy=SLA_ONLY)
        assert "fresh file" not in caplog.text
    with duckdb.connect(str(db), read_only=True) as con:
        recorded = con.execute(
            "select count(*), bool_and(rewritten) from atera_meta.privacy_settings"
        ).fetchone()
    assert recorded == (2, True)


def test_only_text_columns_can_be_hashed() -> None:
    with pytest.raises(ConfigurationError, match="end_user_id: only text columns"):
        Privacy(hash_columns=frozenset({"end_user_id"}), salt=SALT)
    # a column the schema does not declare (a phone number, say) is text as far as we know
    assert Privacy(hash_columns=frozenset({"end_user_phone"}), salt=SALT).active

"""The demo's stable world: the sandbox's data kept between runs, beside the warehouse.

Without a state file every start of the sandbox generated its data afresh
from the current time, so a second demo run saw tickets jump from Closed back
to Open, comments dated before their ticket and work hours on other tickets.
Now the demo sandbox's store is saved in one owner-only JSON file next to the
warehouse (`data/.atera.sandbox-world.json` for `data/atera.duckdb`). Each
start loads it, plays the activity of the time since the last run
(:mod:`pipelines.sandbox.world_activity`), and saves it again; the end of the
run saves the instant the sync last saw the world, so the next start plays
only what happened after that.

The customers, contacts and technicians are not saved: the seed makes them
again. `make demo-reset` (:func:`reset_demo`) starts over.

Usage (what `atera-sync run` does without an API key)::

    with AteraSandbox(...) as sandbox, demo_world(sandbox, world_file_for(duckdb_path)):
        run_sync(...)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.private_files import ensure_private_dir, write_private_text
from pipelines.sandbox.data import TicketStore
from pipelines.sandbox.server import AteraSandbox
from pipelines.sandbox.world_activity import simulate_activity

logger = logging.getLogger("atera_sync.demo")

FORMAT_VERSION = 1
SEED = 42
"""The seed of the demo's people (customers, contacts, technicians)."""

_PER_TICKET = ("_tickets", "_modified", "_comments", "_work_hours", "_impacts")
_PER_WORK_HOUR = ("_on_site", "_rate_ids")
_COUNTERS = ("_next_ticket_id", "_next_comment_id", "_next_work_hour_id")
"""The store's data, by attribute: everything a start may have changed."""


class WorldFileError(Exception):
    """The state file cannot be read back as a world."""


def world_file_for(duckdb_path: Path | str) -> Path:
    """The demo world's state file beside the warehouse `duckdb_path`."""
    published = Path(duckdb_path).expanduser().resolve()
    return published.with_name(f".{published.stem}.sandbox-world.json")


def save_world(
    store: TicketStore, path: Path, seen_until: datetime, seen: dict[int, set[str]]
) -> None:
    """Write the store, the instant it was last served up to and the statuses the warehouse
    may have seen (owner-only, atomically)."""
    with store.lock:
        data: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "seed": SEED,
            "generated_at": store.generated_at.isoformat(),
            "seen_until": seen_until.astimezone(UTC).isoformat(),
            "seen_statuses": {str(k): sorted(v) for k, v in seen.items()},
        }
        for name in _PER_TICKET + _PER_WORK_HOUR:
            data[name] = {str(k): _encode(v) for k, v in getattr(store, name).items()}
        for name in _COUNTERS:
            data[name] = getattr(store, name)
        text = json.dumps(data, separators=(",", ":"))
    ensure_private_dir(path.parent, tighten_existing=False)
    staged = path.with_name(f"{path.name}.tmp")
    write_private_text(staged, text)
    os.replace(staged, path)


def load_world(path: Path, store: TicketStore) -> tuple[datetime, dict[int, set[str]]]:
    """Replace the data of `store` (made with the demo's seed) by the saved world.

    Returns:
        The instant the world was last served up to, and per ticket the statuses the
        warehouse may have last seen it in.

    Raises:
        WorldFileError: the file is not a world this version can read.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION or data.get("seed") != SEED:
            raise WorldFileError(f"format {data.get('format')}, seed {data.get('seed')}")
        restored = {
            name: {int(k): _decode(name, v) for k, v in data[name].items()}
            for name in _PER_TICKET + _PER_WORK_HOUR
        }
        counters = {name: int(data[name]) for name in _COUNTERS}
        seen_until = datetime.fromisoformat(data["seen_until"])
        seen = {int(k): set(v) for k, v in data["seen_statuses"].items()}
        generated_at = datetime.fromisoformat(data["generated_at"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WorldFileError(str(exc)) from exc
    unknown = {t["CustomerID"] for t in restored["_tickets"].values()} - set(store.customers)
    if unknown:
        raise WorldFileError(f"customers {sorted(unknown)[:5]} are not the demo's")
    with store.lock:
        for name, values in restored.items():
            setattr(store, name, values)
        for name, value in counters.items():
            setattr(store, name, value)
        store._json_cache.clear()
        store.generated_at = generated_at
    return seen_until, seen


@contextmanager
def demo_world(sandbox: AteraSandbox, path: Path) -> Iterator[TicketStore]:
    """Serve the saved world from `sandbox`, advanced to the sandbox's now; save it after.

    The first start keeps the data the sandbox generated and saves it.
    """
    now = sandbox.now()
    restored = _restore(sandbox, path)
    seen: dict[int, set[str]] = {}
    if restored is not None:
        since, seen = restored
        rng = random.Random(f"{SEED}:{now.timestamp()}")
        report = simulate_activity(sandbox.store, since, now, rng, seen)
        logger.info(
            "demo world: %d new tickets, %d comments, %d work-hour records and %d status "
            "changes since the last run (%s)",
            report.new_tickets,
            report.comments,
            report.work_hours,
            report.status_changes,
            path.name,
        )
    # until the run succeeds, the warehouse may have seen the old statuses or the new
    save_world(sandbox.store, path, now, _with_current(seen, sandbox.store))
    try:
        yield sandbox.store
    except BaseException:
        save_world(sandbox.store, path, sandbox.now(), _with_current(seen, sandbox.store))
        raise
    # the sync saw the world as it is now: the next start plays what comes after
    save_world(sandbox.store, path, sandbox.now(), _with_current({}, sandbox.store))


def _with_current(seen: dict[int, set[str]], store: TicketStore) -> dict[int, set[str]]:
    """`seen` plus every ticket's current status."""
    with store.lock:
        current = {tid: store.get_ticket(tid)["TicketStatus"] for tid in store.ticket_ids()}
    return {tid: seen.get(tid, set()) | {status} for tid, status in current.items()}


def _restore(sandbox: AteraSandbox, path: Path) -> tuple[datetime, dict[int, set[str]]] | None:
    """Load the saved world into the sandbox; None when there is none (a new world)."""
    if not path.exists():
        logger.info("demo world: a new one, kept in %s for the next runs", path.name)
        return None
    store = TicketStore(tickets=0, seed=SEED, clock=sandbox.now)
    try:
        restored = load_world(path, store)
    except WorldFileError as exc:
        logger.warning(
            "demo world: %s cannot be read (%s); starting a new one (run `make demo-reset` "
            "to start the warehouse over as well)",
            path,
            exc,
        )
        return None
    sandbox.store = store
    return restored


def reset_demo(duckdb_path: Path) -> list[Path]:
    """Remove the demo world and the warehouse built from it; return what was removed.

    Raises:
        WorldFileError: the warehouse exists but was not built from the demo world
            (no state file beside it): it may hold a real account, so it is kept.
    """
    from pipelines.warehouse import Warehouse

    world = world_file_for(duckdb_path)
    warehouse = Warehouse.at(duckdb_path)
    if warehouse.published.exists() and not world.exists():
        raise WorldFileError(
            f"{duckdb_path} was not built from the demo world ({world.name} is missing), "
            "so it may hold your account's data: delete it yourself if you mean to"
        )
    removed = []
    folder = warehouse.published.parent
    # only what lies beside the warehouse (dbt's folder may be configured elsewhere)
    for item in [world, *warehouse.private_paths(), warehouse.lock_file]:
        if item.parent != folder:
            continue
        if item.is_dir():
            shutil.rmtree(item)
        elif item.exists():
            item.unlink()
        else:
            continue
        removed.append(item)
    return removed


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(name: str, value: Any) -> Any:
    return datetime.fromisoformat(value) if name == "_modified" else value


def main(argv: list[str] | None = None) -> int:
    """`python -m pipelines.sandbox.world_state reset [--duckdb PATH]` (make demo-reset)."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.sandbox.world_state")
    parser.add_argument("command", choices=["reset"])
    parser.add_argument("--duckdb", default="data/atera.duckdb")
    args = parser.parse_args(argv)
    try:
        removed = reset_demo(Path(args.duckdb))
    except WorldFileError as exc:
        print(f"error: {exc}")
        return 2
    print(f"demo reset: removed {len(removed)} file(s); the next `make run` starts a new world")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

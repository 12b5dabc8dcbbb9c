"""DuckDB beside PostgreSQL: a full sync and a nightly run of the same sandbox data into each.

The same seeded sandbox (no latency, no rate limit, so that the warehouse side is
what is measured) is synced into a DuckDB file and into a throwaway PostgreSQL
server (`tests/postgres_server.py`: initdb + pg_ctl on loopback, fsync off), each
with the SQL models built after the load. Then a few tickets change over the API
(priority, a comment, work hours) and a nightly (incremental) run follows. Prints,
per destination and run: wall time, rows loaded, the rows/s of dlt's normalize +
load steps, and the seconds of the model build (dbt build and, on PostgreSQL, the
swap of the marts; on DuckDB the publish of the file comes after it). Then the
seconds of `atera-sync report` and of `atera-sync export` (the marts as Parquet)
from each warehouse.

Run: `make bench` or `python benchmarks/bench_destinations.py [--tickets 2000] [--changes 20]`.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import httpx

from pipelines.atera.config import AteraConfiguration
from pipelines.export import locked_export
from pipelines.models import run_models
from pipelines.models.server_runner import run_models_on_server
from pipelines.report import write_report
from pipelines.report.server import write_server_report
from pipelines.sandbox import AteraSandbox
from pipelines.server_export import export_server_warehouse
from pipelines.server_warehouse import ServerWarehouse
from pipelines.sync import run_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests/
from tests.postgres_server import PostgresServer, PostgresUnavailable  # noqa: E402

KEY = "bench-key"
readers: list[str] = []


@dataclass
class Figures:
    destination: str
    run: str
    wall_s: float
    rows: int
    load_rows_per_s: float
    models_s: float


class TimedModels:
    """The after-load step of `atera-sync run`: build the models; remember how long it took."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, target: Path | ServerWarehouse, data_as_of: datetime | None = None) -> None:
        started = time.perf_counter()
        if isinstance(target, ServerWarehouse):
            run_models_on_server(target, data_as_of=data_as_of)
        else:
            with duckdb.connect(str(target)) as con:
                run_models(con, data_as_of=data_as_of)
        self.seconds = time.perf_counter() - started


def change_tickets(sandbox: AteraSandbox, count: int, seed: int = 1) -> int:
    """Change `count` open tickets over the API (priority, comment, work hours)."""
    open_ids = [
        int(t["TicketID"]) for t in sandbox.snapshot()["tickets"] if t["TicketStatus"] != "Closed"
    ]
    picked = random.Random(seed).sample(open_ids, max(1, min(len(open_ids), count)))
    technician = next(iter(sandbox.store.technicians))
    now = sandbox.now()
    with httpx.Client(base_url=sandbox.api_url, headers={"X-API-KEY": KEY}) as api:
        for number, ticket_id in enumerate(picked):
            if number % 3 == 0:
                api.post(f"/tickets/{ticket_id}", json={"TicketPriority": "Critical"})
            elif number % 3 == 1:
                api.post(f"/tickets/{ticket_id}/comments", json={"CommentText": "Any news?"})
            else:
                start = now - timedelta(hours=3)
                sandbox.store.add_work_hours(ticket_id, technician, start, now, True, "Fixed")
    return len(picked)


def measure(destination: str, tickets: int, changes: int, folder: Path) -> list[Figures]:
    """A full run, then a nightly run after `changes` tickets changed, into `destination`."""
    figures: list[Figures] = []
    with AteraSandbox(api_key=KEY, tickets=tickets, seed=42, rate_limit=None) as sandbox:
        config = AteraConfiguration()
        config.api_key = KEY
        config.base_url = sandbox.api_url
        config.rate_limit_per_minute = 100_000
        for run in ("full", "nightly"):
            if run == "nightly":
                sandbox.advance(3600)
                change_tickets(sandbox, changes)
                sandbox.advance(60)
            models = TimedModels()
            started = time.perf_counter()
            result = run_sync(
                config, folder / "atera.duckdb", destination=destination, after_load=models
            )
            wall = time.perf_counter() - started
            figures.append(
                Figures(
                    destination,
                    f"{run} ({result.report.mode})",
                    wall,
                    sum(result.rows.values()),
                    result.load_rows_per_second,
                    models.seconds,
                )
            )
            print(_line(figures[-1]), flush=True)
        readers.append(_readers(destination, folder))
    return figures


def _readers(destination: str, folder: Path) -> str:
    """Seconds of `atera-sync report` and `export` (Parquet, marts only) after the runs."""
    started = time.perf_counter()
    if destination == "duckdb":
        write_report(folder / "atera.duckdb", folder / "report.html", time_zone="UTC")
        report_s = time.perf_counter() - started
        export = locked_export(folder / "atera.duckdb", folder / "export", "parquet", raw=False)
    else:
        server = ServerWarehouse(destination, state_root=folder)
        write_server_report(server, folder / "report.html", time_zone="UTC")
        report_s = time.perf_counter() - started
        export = export_server_warehouse(server, folder / "export", "parquet", raw=False)
    rows = sum(export.rows.values())
    return (
        f"{destination}: report {report_s:.2f} s; export of the marts {export.seconds:.2f} s "
        f"({rows:,} rows)"
    )


def _line(f: Figures) -> str:
    return (
        f"| {f.destination:<10} | {f.run:<21} | {f.wall_s:7.1f} | {f.rows:8,} "
        f"| {f.load_rows_per_s:9,.0f} | {f.models_s:7.1f} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=20, help="tickets changed before nightly")
    args = parser.parse_args(argv)
    # the sandbox's clock is moved on between the runs: that is no news here
    logging.getLogger("atera_sync.plan").setLevel(logging.ERROR)
    print(f"tickets={args.tickets}, {args.changes} changed before the nightly run")
    print("| destination | run                   | wall s  | rows     | load rows/s | models s |")
    print("|-------------|-----------------------|---------|----------|-------------|----------|")
    with tempfile.TemporaryDirectory() as tmp:
        measure("duckdb", args.tickets, args.changes, Path(tmp) / "duckdb")
        try:
            server = PostgresServer().start()
        except PostgresUnavailable as exc:
            print(f"PostgreSQL skipped: {exc}")
            print("\n".join(readers))
            return
        try:
            # the dlt way, as a user configures it
            os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = server.dsn(server.create_database())
            measure("postgres", args.tickets, args.changes, Path(tmp) / "postgres")
        finally:
            server.stop()
    print("\n".join(readers))


if __name__ == "__main__":
    main()

"""SQL models at scale: 1,000,000 tickets, 5,000,000 comments, 2,000,000 work hours.

Generates the raw tables straight in DuckDB (deterministic pseudo-random data),
with one sync in the history (its server time is the live build's as_of), then
runs `atera-sync models` on them twice, each in its own process as a
nightly job does: the first run parses the dbt project, the next one reuses
the parse. Prints each process's wall time, dbt's run (from its
run_results.json: the SQL of models and tests), what remains (Python and dbt
start-up, parsing, publishing the file) and the peak memory.

Run: `make bench` or `python benchmarks/bench_models.py [TICKETS] [--business-hours]`.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.warehouse import HISTORY_DDL, HISTORY_TABLE

AS_OF = "2026-06-30T12:00:00Z"
T0 = "timestamptz '2025-01-01 00:00:00+00'"


def generate(path: Path, tickets: int) -> None:
    """Raw tables with `tickets` tickets, 5 comments and 2 work hours each."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema atera_raw")
        con.execute(
            f"""
            create table atera_raw.tickets as
            select
                10000 + i as ticket_id,
                'Ticket ' || i as ticket_title,
                ['Critical', 'High', 'Medium', 'Low', null][1 + i % 5] as ticket_priority,
                ['Open', 'Pending', 'Resolved', 'Closed', 'Closed'][1 + (i // 5) % 5]
                    as ticket_status,
                'Incident' as ticket_type,
                100 + i % 300 as customer_id,
                'Customer ' || (i % 300) as customer_name,
                20000 + i % 5000 as end_user_id,
                1 + i % 12 as technician_contact_id,
                'Tech ' || (i % 12) as technician_full_name,
                {T0} + to_seconds(i * 25) as ticket_created_date,
                case when (i // 5) % 5 >= 2
                    then {T0} + to_seconds(i * 25 + 3600 * (1 + i % 48))
                end as ticket_resolved_date,
                case when i % 3 = 0
                    then {T0} + to_seconds(i * 25 + 60 * (5 + i % 600))
                end as first_response_date,
                {T0} + to_seconds(i * 25 + 7200) as last_activity_date,
                '1700000000.0' as _dlt_load_id,
                'tk' || i as _dlt_id
            from range({tickets}) as r(i)
            """
        )
        con.execute(
            f"""
            create table atera_raw.comments as
            select
                cast(1000000 + i as varchar) as comment_key,
                1000000 + i as comment_id,
                10000 + i // 5 as ticket_id,
                'Comment ' || i as comment_text,
                {T0}
                    + to_seconds((i // 5) * 25 + 60 * (1 + (i % 5) * (7 + i % 97))) as comment_date,
                case when i % 2 = 0 then 1 + i % 12 else 20000 + (i // 5) % 5000 end
                    as creator_contact_id,
                i % 7 = 0 as is_internal,
                '1700000000.0' as _dlt_load_id,
                'cm' || i as _dlt_id
            from range({tickets * 5}) as r(i)
            """
        )
        con.execute(
            f"""
            create table atera_raw.work_hours as
            select
                3000000 + i as work_hour_id,
                10000 + i // 2 as ticket_id,
                1 + i % 12 as technician_contact_id,
                {T0} + to_seconds((i // 2) * 25 + 600) as start_date,
                {T0} + to_seconds((i // 2) * 25 + 600 + 900 * (1 + i % 8))
                    as end_date,
                900 * (1 + i % 8) as duration,
                i % 3 <> 0 as is_billable,
                '1700000000.0' as _dlt_load_id,
                'wh' || i as _dlt_id
            from range({tickets * 2}) as r(i)
            """
        )
        con.execute(
            """
            create table atera_raw.ticket_status_snapshots as
            select
                ticket_id, ticket_status, ticket_priority,
                timestamptz '2025-06-01 00:00:00+00' as observed_at,
                last_activity_date, _dlt_load_id, _dlt_id
            from atera_raw.tickets
            where ticket_id % 10 = 0
            """
        )
        con.execute(HISTORY_DDL)
        con.execute(
            f"insert into {HISTORY_TABLE} (run_id, started_at, finished_at, status, "
            "watermark_after, server_time) values ('bench', ?, ?, 'success', ?, ?)",
            [AS_OF, AS_OF, AS_OF, AS_OF],
        )


def sql_seconds(work_dir: Path) -> tuple[float, float]:
    """dbt's own figures from run_results.json: (elapsed seconds, summed node seconds)."""
    results = work_dir / "target" / "run_results.json"
    if not results.exists():  # a version without dbt
        return float("nan"), float("nan")
    data = json.loads(results.read_text())
    return data["elapsed_time"], sum(r.get("execution_time", 0.0) for r in data["results"])


def run_models_command(db_path: Path, business: bool, config_dir: Path) -> dict[str, float]:
    """`atera-sync models` as a nightly job runs it, in its own process."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("ATERA_DBT_WORK_DIR", None)
    if business:
        env["MODELS__BUSINESS_HOURS__ENABLED"] = "true"
    command = [
        str(Path(sys.executable).with_name("atera-sync")),
        "models",
        "--duckdb",
        str(db_path),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=config_dir)
    wall = time.perf_counter() - started
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    work = db_path.with_name(f".{db_path.stem}.work.duckdb")
    elapsed, summed = sql_seconds(work.with_name(f".{work.stem.lstrip('.')}.dbt"))
    return {"wall": wall, "dbt_elapsed": elapsed, "node_seconds": summed, "peak_mb": peak / 1024}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tickets = int(args[0]) if args else 1_000_000
    business = "--business-hours" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        generate(db_path, tickets)
        print(
            f"generated {tickets:,} tickets, {5 * tickets:,} comments, {2 * tickets:,} work "
            f"hours in {time.perf_counter() - started:.1f} s"
        )
        label = "atera-sync models" + (" (business hours)" if business else "")
        for run in ("first run (dbt parses the project)", "next run (nightly)"):
            f = run_models_command(db_path, business, Path(tmp))
            print(
                f"{label}, {run}: {f['wall']:.1f} s for the whole process; dbt's run "
                f"{f['dbt_elapsed']:.1f} s ({f['node_seconds']:.1f} s of SQL summed over its "
                f"threads), so start-up, parsing and publishing "
                f"{f['wall'] - f['dbt_elapsed']:.1f} s;"
                f" peak memory {f['peak_mb']:,.0f} MB"
            )


if __name__ == "__main__":
    main()

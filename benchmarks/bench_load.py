"""Loader throughput: dlt's default insert_values against parquet, into DuckDB.

Prints rows/s for the normalize and load steps of each file format on the same
synthetic comment-shaped rows (with timestamps), merged on a primary key as the
real pipeline does. Run: `make bench` or `python benchmarks/bench_load.py [ROWS]`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dlt

dlt.config["runtime.dlthub_telemetry"] = False

START = datetime(2026, 1, 1, tzinfo=UTC)


def rows(count: int):
    for i in range(count):
        yield {
            "CommentID": 500_000 + i,
            "TicketID": 10_000 + i // 5,
            "CommentText": f"Checked the mail server logs, step {i}; rebooting the gateway.",
            "CommentDate": START + timedelta(minutes=i),
            "CreatorContactID": 1000 + i % 8,
            "IsInternal": i % 3 == 0,
        }


def measure(file_format: str, count: int, workdir: Path) -> dict[str, float]:
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{file_format}",
        destination=dlt.destinations.duckdb(str(workdir / f"{file_format}.duckdb")),
        dataset_name="bench",
        pipelines_dir=str(workdir / f"pipelines_{file_format}"),
    )
    resource = dlt.resource(
        rows(count), name="comments", primary_key="comment_id", write_disposition="merge"
    )
    started = time.perf_counter()
    pipeline.extract(resource, loader_file_format=file_format)
    extracted = time.perf_counter()
    pipeline.normalize()
    normalized = time.perf_counter()
    pipeline.load()
    loaded = time.perf_counter()
    return {
        "extract_s": extracted - started,
        "normalize_s": normalized - extracted,
        "load_s": loaded - normalized,
    }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{count:,} rows, merge on a primary key, DuckDB destination")
    print(f"{'format':<14}{'extract s':>10}{'normalize s':>13}{'load s':>9}{'load rows/s':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for file_format in ("insert_values", "parquet"):
            t = measure(file_format, count, Path(tmp))
            print(
                f"{file_format:<14}{t['extract_s']:>10.2f}{t['normalize_s']:>13.2f}"
                f"{t['load_s']:>9.2f}{count / t['load_s']:>13,.0f}"
            )


if __name__ == "__main__":
    main()

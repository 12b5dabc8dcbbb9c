"""Publishing for BI readers at scale: publish time, file sizes, export speed, reader latency.

Generates a warehouse (bench_models.generate: TICKETS tickets, 5 comments and 2
work hours each), builds the models once with `atera-sync models`, then:

* times a publish the old way (a byte copy of the working copy renamed over the
  published file) and the current way (the marts as a Parquet run, a staged copy
  without internal schemas whose marts are live views, renamed over it);
* prints the sizes of the working copy, the published file and one marts run;
* times `atera-sync export` (Parquet and CSV, with the raw tables);
* measures how long after a publish starts a connection kept open in another
  process sees the new run.

Run: `python benchmarks/bench_publish.py [TICKETS]` (default 1,000,000).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_models import generate, run_models_command  # noqa: E402

from pipelines import warehouse as warehouse_module  # noqa: E402
from pipelines.export import export_warehouse  # noqa: E402
from pipelines.live_marts import MartRuns  # noqa: E402
from pipelines.warehouse import Warehouse  # noqa: E402

# Polls the live run view on one connection; prints when it first sees another run.
WATCHER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1], read_only=True)
first = con.execute("select run_id from atera_meta.marts_run").fetchone()[0]
print("ready", flush=True)
while True:
    now = time.time()
    if con.execute("select run_id from atera_meta.marts_run").fetchone()[0] != first:
        print(now, flush=True)
        break
    time.sleep(0.005)
"""


def mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return path.stat().st_size / 1e6


def timed(step: object) -> float:
    started = time.perf_counter()
    step()  # type: ignore[operator]
    return time.perf_counter() - started


def reader_latency(warehouse: Warehouse) -> tuple[float, float]:
    """(seconds from publish start to the reader seeing the new run, publish seconds)."""
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(warehouse.published)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert watcher.stdout is not None
    assert watcher.stdout.readline().strip() == "ready"
    started = time.time()
    publish_seconds = timed(warehouse.publish)
    seen = float(watcher.stdout.readline())
    watcher.wait()
    return seen - started, publish_seconds


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tickets = int(args[0]) if args else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        generate(path, tickets)
        run_models_command(path, False, Path(tmp))
        warehouse = Warehouse.at(path)
        old = timed(lambda: warehouse._replace_published(warehouse.work))
        old_size = mb(warehouse.published)
        new = timed(warehouse.publish)
        run = MartRuns(warehouse.marts_dir).active_run()
        assert run is not None
        print(
            f"{tickets:,} tickets: publish as a byte copy {old:.2f} s ({old_size:,.0f} MB file); "
            f"publish with live marts {new:.2f} s, the activation time (1.0 s) included "
            f"(published file {mb(warehouse.published):,.0f} MB, one marts run "
            f"{mb(run):,.1f} MB, working copy {mb(warehouse.work):,.0f} MB)"
        )
        warehouse_module._checkpoint(warehouse.work)
        for fmt in ("parquet", "csv"):
            result = export_warehouse(warehouse.published, Path(tmp) / fmt, fmt, raw=True)
            marts = sum(v for k, v in result.rows.items() if k.startswith("analytics."))
            print(
                f"export --format {fmt} --raw: {sum(result.rows.values()):,} rows ({marts:,} of "
                f"marts) in {result.seconds:.1f} s, {result.rows_per_second:,.0f} rows/s, "
                f"{mb(result.folder):,.0f} MB"
            )
        latency, publish_seconds = reader_latency(warehouse)
        print(
            f"a connection kept open saw the new run {latency:.2f} s after the publish started "
            f"(publish {publish_seconds:.2f} s)"
        )


if __name__ == "__main__":
    main()

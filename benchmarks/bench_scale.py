"""A full sync at scale: peak memory of the sync and its normalize + load throughput.

A sandbox of 100,000 tickets (contract shape, no latency, no rate limit) serves
from this process; the full sync runs into a fresh DuckDB file in a child
process (as `benchmarks/bench_budget.py` runs its syncs), so that the peak
memory measured is the sync's alone. Reconciliation is off: the figures are
those of the full sync itself.

Prints the wall time and CPU time of the sync process (its start included; on a
busy machine the CPU time is the steadier figure), the API calls,
the rows loaded and in how many chunks, the seconds of dlt's normalize and load
steps with their rows per second, and the peak resident memory of the sync
process. Targets: under 400 MB and at least 50,000 rows/s.

Run: `make bench` or `python benchmarks/bench_scale.py [--tickets 100000]
[--api-shape contract|published]` (`--tickets 10000` for a quick look).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from bench_budget import KEY, measure

from pipelines.sandbox import AteraSandbox

TARGET_PEAK_MB = 400
TARGET_ROWS_PER_S = 50_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--api-shape", default="contract", choices=("contract", "published"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    started = time.perf_counter()
    with (
        AteraSandbox(
            api_key=KEY,
            tickets=args.tickets,
            seed=args.seed,
            rate_limit=None,
            api_shape=args.api_shape,
        ) as sandbox,
        tempfile.TemporaryDirectory() as folder,
    ):
        built = time.perf_counter() - started
        figures = measure(sandbox, "pipeline", folder, 1_000_000)
    sync = figures.sync or {}
    rows = sync.get("rows", 0)
    print(
        f"{args.tickets:,} tickets, {args.api_shape} shape, no rate limit "
        f"(sandbox built in {built:.0f} s)"
    )
    print(f"wall time          {figures.wall_s:10,.1f} s  (the sync process, its start included)")
    print(f"CPU time           {sync.get('cpu_s', 0.0):10,.1f} s  (of the sync process)")
    print(f"API calls          {figures.calls:10,}")
    print(f"rows loaded        {rows:10,}  in {sync.get('chunks', 0)} chunks")
    print(f"normalize + load   {sync.get('normalize_load_s', 0.0):10,.1f} s")
    print(
        f"load rows/s        {sync.get('rows_per_s', 0.0):10,.0f}"
        f"  (target >= {TARGET_ROWS_PER_S:,})"
    )
    print(f"peak memory        {figures.peak_mb:10,.0f} MB  (target < {TARGET_PEAK_MB} MB)")
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in sync.get("steps", {}).items())
    print(f"dlt steps          {steps}")


if __name__ == "__main__":
    main()

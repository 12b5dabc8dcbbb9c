"""Sync throughput against the sandbox with network-like latency and Atera's rate limit.

With 100 ms per request, one request at a time would manage 600 requests a
minute; the client's worker threads should instead keep the sync close to
the 700/minute limit. Prints wall time, API calls, the request rate achieved
and the peak memory of the process.

Run: `make bench` or
`python benchmarks/bench_sync.py --tickets 400 --latency-ms 100 --rate-limit 700`.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from pipelines.atera.config import AteraConfiguration
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync

KEY = "bench-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--rate-limit", type=int, default=700)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with (
        AteraSandbox(
            api_key=KEY,
            tickets=args.tickets,
            rate_limit=args.rate_limit,
            latency_ms=args.latency_ms,
        ) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = AteraConfiguration()
        config.api_key = KEY
        config.base_url = sandbox.api_url
        config.rate_limit_per_minute = args.rate_limit
        config.concurrency = args.concurrency
        started = time.perf_counter()
        result = run_sync(config, Path(tmp) / "bench.duckdb")
        wall = time.perf_counter() - started
        rejected = sum(1 for entry in sandbox.request_log if entry[3] == 429)

    per_minute = result.api_calls / wall * 60
    # a sliding window lets the first `limit` calls go at once; call k + limit can go no
    # earlier than 60 s after call k, and each call takes latency / concurrency of the pool
    calls = result.api_calls
    best_possible = (calls - 1) // args.rate_limit * 60 + ((calls - 1) % args.rate_limit + 1) * (
        args.latency_ms / 1000
    ) / args.concurrency
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"tickets={args.tickets} latency={args.latency_ms} ms limit={args.rate_limit}/min "
        f"concurrency={args.concurrency}"
    )
    print(f"wall time        {wall:8.1f} s  (fastest the limit allows: {best_possible:.1f} s)")
    print(f"API calls        {calls:8,}  (429 answers: {rejected}, retries: {result.retries})")
    print(f"request rate     {per_minute:8,.0f} /min")
    print(f"rows loaded      {sum(result.rows.values()):8,}")
    print(f"steps            {result.step_seconds}")
    print(f"peak memory      {peak_mb:8.0f} MB")


if __name__ == "__main__":
    main()

"""The API budget: this pipeline beside dlt's generic `rest_api` source, and nightly cost at scale.

Part 1, over the sandbox with 300 ms latency and a 700/minute window (500
tickets; both API shapes for this pipeline, the contract shape for
`rest_api`): full-sync wall time, API calls of a nightly run after 1 % of the
tickets changed and after nothing changed, 429 answers, peak memory, and the
ratios. The `rest_api` source is configured for the same endpoints as a dlt user
would (full reload every night, `rest_api_config` below); its nightly run is a
full reload, so it is run for the full sync and after the change (a night with
no change sends the full sync's requests again).

Part 2, an account of 50,000 tickets of which 5 % are not Closed (no latency,
no rate limit): this pipeline's nightly calls, to show that they follow the open
backlog, not the account's history.

Each measured run is a child process, so that its peak memory is its own.

Run: `make bench` or `python benchmarks/bench_budget.py [--quick]` (`--quick`:
100 and 5,000 tickets, `rest_api` full sync only).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import random
import resource
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from pipelines.sandbox import AteraSandbox

KEY = "bench-key"
WINDOW_LIMIT = 700
PER_TICKET = "tickets/{resources.tickets.TicketID}"
"""A child endpoint of each listed ticket, in rest_api's notation."""


@dataclass
class Figures:
    """One measured run."""

    wall_s: float
    calls: int
    rejected: int
    peak_mb: float
    sync: dict[str, Any] | None = None
    """This pipeline's own figures (`sync_figures`); None for `rest_api`."""


# -- the two pipelines, each run in a child process ---------------------------------------


def rest_api_config(api_url: str) -> dict[str, Any]:
    """dlt's generic REST source for the ticket contract: what a dlt user would write."""
    child = {"data_selector": "items", "paginator": "single_page"}
    return {
        "client": {
            "base_url": api_url + "/",
            "auth": {"type": "api_key", "name": "X-API-KEY", "api_key": KEY, "location": "header"},
        },
        "resource_defaults": {"write_disposition": "replace"},
        "resources": [
            {
                "name": "tickets",
                "primary_key": "TicketID",
                "endpoint": {
                    "path": "tickets",
                    "params": {"itemsInPage": 50},
                    "data_selector": "items",
                    "paginator": {
                        "type": "page_number",
                        "base_page": 1,
                        "page_param": "page",
                        "total_path": "totalPages",
                    },
                },
            },
            {"name": "comments", "endpoint": {"path": f"{PER_TICKET}/comments", **child}},
            {"name": "work_hours", "endpoint": {"path": f"{PER_TICKET}/workhours", **child}},
            {
                "name": "billable_durations",
                "endpoint": {
                    "path": f"{PER_TICKET}/billableduration",
                    "paginator": "single_page",
                },
                "include_from_parent": ["TicketID"],
            },
        ],
    }


def _run_rest_api(api_url: str, folder: str) -> None:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    dlt.config["runtime.dlthub_telemetry"] = False
    pipeline = dlt.pipeline(
        pipeline_name="rest_api_bench",
        destination=dlt.destinations.duckdb(str(Path(folder) / "rest_api.duckdb")),
        dataset_name="atera_raw",
        pipelines_dir=str(Path(folder) / "rest_api_dlt"),
    )
    pipeline.run(rest_api_source(rest_api_config(api_url)))


def _run_pipeline(api_url: str, folder: str, rate_limit: int) -> dict[str, Any]:
    from pipelines.atera.config import AteraConfiguration
    from pipelines.sync import run_sync

    config = AteraConfiguration()
    config.api_key = KEY
    config.base_url = api_url
    config.rate_limit_per_minute = rate_limit
    config.safety_net_every_days = 0  # the bench measures ordinary nights
    config.reconcile_every_days = 0
    result = run_sync(config, Path(folder) / "atera.duckdb")
    return {
        "rows": sum(result.rows.values()),
        "chunks": result.chunks,
        "api_calls": result.api_calls,
        "duration_s": result.duration_s,
        "normalize_load_s": result.step_seconds.get("normalize", 0.0)
        + result.step_seconds.get("load", 0.0),
        "rows_per_s": result.load_rows_per_second,
        "steps": result.step_seconds,
    }


def peak_resident_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's `ru_maxrss` is carried across fork and exec: a child started by a
    process that holds a large sandbox reports at least the parent's size at the
    fork (a 100,000-ticket sandbox: about 500 MB). `VmHWM` is the process's own
    high-water mark; `ru_maxrss` where there is no /proc.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(target: str, args: tuple, queue: Any) -> None:
    try:
        sync = {"rest_api": _run_rest_api, "pipeline": _run_pipeline}[target](*args)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        if sync is not None:
            sync["cpu_s"] = usage.ru_utime + usage.ru_stime
        queue.put((peak_resident_mb(), sync))
    except BaseException as exc:  # report, so the parent does not wait forever
        queue.put(exc)
        raise


def measure(sandbox: AteraSandbox, target: str, *args: Any) -> Figures:
    """Run one sync in a child process; count what the sandbox answered."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    sandbox.reset_request_log()
    started = time.perf_counter()
    process = context.Process(target=_child, args=(target, (sandbox.api_url, *args), queue))
    process.start()
    outcome = queue.get()
    process.join()
    wall = time.perf_counter() - started
    if isinstance(outcome, BaseException):
        raise RuntimeError(f"{target} failed") from outcome
    peak_mb, sync = outcome
    log = list(sandbox.request_log)
    return Figures(wall, len(log), sum(1 for entry in log if entry[3] == 429), peak_mb, sync)


# -- changing the data between runs ---------------------------------------------------------


def change_tickets(sandbox: AteraSandbox, count: int, seed: int = 1) -> int:
    """Change `count` open tickets over the API (priority, comment, work hours); return how many."""
    rng = random.Random(seed)
    open_ids = [
        int(t["TicketID"]) for t in sandbox.snapshot()["tickets"] if t["TicketStatus"] != "Closed"
    ]
    picked = rng.sample(open_ids, max(1, min(len(open_ids), count)))
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


def close_all_but(sandbox: AteraSandbox, open_share: float, seed: int = 3) -> None:
    """Close tickets until `open_share` of them are not Closed (an account with history)."""
    store = sandbox.store
    tickets = store.snapshot()["tickets"]
    not_closed = [int(t["TicketID"]) for t in tickets if t["TicketStatus"] != "Closed"]
    keep = int(len(tickets) * open_share)
    random.Random(seed).shuffle(not_closed)
    for ticket_id in not_closed[keep:]:
        if store.get_ticket(ticket_id)["TicketStatus"] == "Open":
            store.update_ticket(ticket_id, {"TicketStatus": "Resolved"})
        store.update_ticket(ticket_id, {"TicketStatus": "Closed"})
    sandbox.advance(3600)  # the closing is history by the time the account is synced


# -- the two parts ----------------------------------------------------------------------------


def side_by_side(tickets: int, latency_ms: int, nightly_rest_api: bool) -> list[list[str]]:
    rows: list[list[str]] = []
    results: dict[str, dict[str, Figures]] = {}
    runs = [("pipeline", "contract"), ("pipeline", "published"), ("rest_api", "contract")]
    for target, shape in runs:
        label = f"atera-sync, {shape}" if target == "pipeline" else "dlt rest_api, contract"
        with (
            AteraSandbox(
                api_key=KEY,
                tickets=tickets,
                seed=42,
                rate_limit=WINDOW_LIMIT,
                latency_ms=latency_ms,
                api_shape=shape,
            ) as sandbox,
            tempfile.TemporaryDirectory() as folder,
        ):
            args: tuple = (folder, WINDOW_LIMIT) if target == "pipeline" else (folder,)
            figures = {"full": measure(sandbox, target, *args)}
            if target == "pipeline" or nightly_rest_api:
                sandbox.advance(3600)
                changed = change_tickets(sandbox, tickets // 100)
                figures["1 %"] = measure(sandbox, target, *args)
            if target == "pipeline":
                sandbox.advance(3600)
                figures["none"] = measure(sandbox, target, *args)
            results[label] = figures
            print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    target_1 = 1.25 * (1 + math.ceil(tickets / 50) + 3 * changed)
    target_0 = 1 + math.ceil(tickets / 50) + 2
    rest = results["dlt rest_api, contract"]["full"]
    for label, figures in results.items():
        full = figures["full"]
        one = figures.get("1 %", full)
        none = figures.get("none", full)
        rejected = sum(f.rejected for f in figures.values())
        rows.append(
            [
                label,
                f"{full.wall_s:,.0f} s",
                f"{full.calls:,}",
                f"{one.calls:,}" + ("" if "1 %" in figures else " ¹"),
                f"{none.calls:,}" + ("" if "none" in figures else " ¹"),
                f"{rejected}",
                f"{max(f.peak_mb for f in figures.values()):,.0f} MB",
                f"{rest.wall_s / full.wall_s:.1f}×",
                f"{rest.calls / max(1, none.calls):,.0f}×",
            ]
        )
    print(
        f"\n{tickets} tickets, {latency_ms} ms latency, {WINDOW_LIMIT}/min window; "
        f"{changed} tickets changed; targets: 1 % changed <= {target_1:.1f}, none <= {target_0}"
    )
    return rows


def at_scale(tickets: int, open_share: float) -> list[list[str]]:
    rows = []
    for shape in ("contract", "published"):
        with (
            AteraSandbox(
                api_key=KEY, tickets=tickets, seed=42, rate_limit=None, api_shape=shape
            ) as sandbox,
            tempfile.TemporaryDirectory() as folder,
        ):
            close_all_but(sandbox, open_share)
            listing = sandbox.snapshot()["tickets"]
            open_now = sum(1 for t in listing if t["TicketStatus"] != "Closed")
            full = measure(sandbox, "pipeline", folder, 1_000_000)
            sandbox.advance(3600)
            changed = change_tickets(sandbox, 5)  # as many as 1 % of 500 tickets
            one = measure(sandbox, "pipeline", folder, 1_000_000)
            sandbox.advance(3600)
            none = measure(sandbox, "pipeline", folder, 1_000_000)
            rows.append(
                [
                    shape,
                    f"{tickets:,}",
                    f"{open_now:,}",
                    f"{full.calls:,} in {full.wall_s:,.0f} s",
                    f"{one.calls:,} ({changed} changed)",
                    f"{none.calls:,}",
                    f"{max(full.peak_mb, one.peak_mb, none.peak_mb):,.0f} MB",
                ]
            )
            print(f"{shape}: {rows[-1]}", flush=True)
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 5,000 tickets")
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--scale-tickets", type=int, default=None)
    args = parser.parse_args()
    tickets = args.tickets or (100 if args.quick else 500)
    scale = args.scale_tickets or (5_000 if args.quick else 50_000)

    rows = side_by_side(tickets, args.latency_ms, nightly_rest_api=not args.quick)
    print()
    print(
        table(
            [
                "pipeline",
                "full sync",
                "calls",
                "nightly calls, 1 % changed",
                "nightly calls, no change",
                "429s",
                "peak memory",
                "rest_api time ÷ this",
                "rest_api calls ÷ this, nightly",
            ],
            rows,
        )
    )
    print("\n¹ a full reload: the nightly run sends the full sync's requests again")
    scale_rows = at_scale(scale, 0.05)
    print()
    print(
        table(
            [
                "shape",
                "tickets",
                "not Closed",
                "full sync",
                "nightly, 5 changed",
                "nightly, no change",
                "peak memory",
            ],
            scale_rows,
        )
    )


if __name__ == "__main__":
    main()

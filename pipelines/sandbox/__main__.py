"""Serve the Atera sandbox from the command line.

Usage::

    python -m pipelines.sandbox --port 8765 [--host 127.0.0.1] [--tickets 2847]
        [--seed 42] [--api-key KEY] [--rate-limit 700] [--latency-ms 0]
        [--dialect seed|v3]

``--dialect seed`` (default) serves the seed contract's shapes; ``--dialect v3``
serves the same data in the shapes of Atera's published OpenAPI v3 description.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Sequence

from pipelines.sandbox.server import AteraSandbox


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    tickets: int = 2847,
    seed: int = 42,
    api_key: str = "sandbox-key",
    rate_limit: int | None = 700,
    latency_ms: float = 0,
    child_envelope: str = "items",
    echo: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
    dialect: str = "seed",
) -> None:
    """Start a sandbox, print how to reach it and serve until Ctrl-C.

    Args:
        host: Interface to bind.
        port: Port to bind (0 picks a free one).
        tickets: Number of seeded tickets.
        seed: Seed of the data generator.
        api_key: The ``X-API-KEY`` clients must send.
        rate_limit: Requests per minute per key; ``None`` or 0 = unlimited.
        latency_ms: Delay added to every request.
        child_envelope: ``"items"`` or ``"paged"`` for comment/work-hour lists.
        echo: Where to print the connection details (default: stdout, flushed).
        stop_event: Stop serving when this event is set (for embedding and tests).
        dialect: ``"seed"`` (seed contract shapes) or ``"v3"`` (Atera's published shapes).
    """
    sandbox = AteraSandbox(
        api_key=api_key,
        tickets=tickets,
        seed=seed,
        rate_limit=rate_limit or None,
        latency_ms=latency_ms,
        child_envelope=child_envelope,
        host=host,
        port=port,
        dialect=dialect,
    )
    echo = echo or _print
    stop = stop_event or threading.Event()
    with sandbox:
        suffix = " (published v3 dialect)" if dialect == "v3" else ""
        echo(f"Atera sandbox serving {tickets} tickets{suffix}")
        echo(f"  base URL: {sandbox.base_url}")
        echo(f"  API URL:  {sandbox.api_url}")
        if dialect == "v3":
            echo(f"  API key:  {api_key}  (send it as X-API-KEY or Authorization: Bearer)")
        else:
            echo(f"  API key:  {api_key}  (send it as the X-API-KEY header)")
        echo("Press Ctrl-C to stop.")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            echo("Stopping the sandbox.")


def _print(line: str) -> None:
    print(line, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.sandbox",
        description="Serve a local sandbox of the Atera ticket API v3.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port, 0 = any free (default 8765)")
    parser.add_argument("--tickets", type=int, default=2847, help="seeded tickets (default 2847)")
    parser.add_argument("--seed", type=int, default=42, help="data generator seed (default 42)")
    parser.add_argument("--api-key", default="sandbox-key", help="X-API-KEY to accept")
    parser.add_argument(
        "--rate-limit", type=int, default=700, help="requests per minute per key, 0 = unlimited"
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to each request")
    parser.add_argument(
        "--child-envelope",
        choices=("items", "paged"),
        default="items",
        help="envelope of comment and work-hour lists, seed dialect (default items)",
    )
    parser.add_argument(
        "--dialect",
        choices=("seed", "v3"),
        default="seed",
        help="wire shapes: the seed contract or Atera's published v3 API (default seed)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve the sandbox until Ctrl-C.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    args = build_parser().parse_args(argv)
    serve(
        host=args.host,
        port=args.port,
        tickets=args.tickets,
        seed=args.seed,
        api_key=args.api_key,
        rate_limit=args.rate_limit,
        latency_ms=args.latency_ms,
        child_envelope=args.child_envelope,
        dialect=args.dialect,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

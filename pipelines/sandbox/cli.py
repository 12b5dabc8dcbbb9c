"""The sandbox's one command line: ``atera-sync sandbox`` and ``python -m pipelines.sandbox``.

Both run :data:`sandbox_command` (``atera-sync`` registers it as its
``sandbox`` command), so they take the same options::

    --host 127.0.0.1  --port 8765  --tickets 2847  --seed 42  --api-key sandbox-key
    --rate-limit 700  --latency-ms 0  --child-envelope items|paged
    --api-shape contract|published  --timestamp-format iso|iso7|dotnet|dotnet-offset
    --sla-audit-tickets

The hidden ``--dialect seed|v3`` is the deprecated name of ``--api-shape``.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from pipelines.sandbox.server import AteraSandbox
from pipelines.sandbox.shapes import (
    API_SHAPES,
    CONTRACT,
    DEPRECATED_NAMES,
    PUBLISHED,
    normalize_api_shape,
)
from pipelines.sandbox.timestamps import ISO, TIMESTAMP_FORMATS


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
    api_shape: str = CONTRACT,
    timestamp_format: str = ISO,
    *,
    sla_audit_tickets: bool = False,
    dialect: str | None = None,
) -> None:
    """Start a sandbox, print how to reach it and serve until Ctrl-C.

    Args:
        host: Interface to bind.
        port: Port to bind (0 picks a free one).
        tickets: Number of seeded tickets.
        seed: Seed of the data generator.
        api_key: The key clients must send.
        rate_limit: Requests per minute per key; ``None`` or 0 = unlimited.
        latency_ms: Delay added to every request.
        child_envelope: ``"items"`` or ``"paged"`` for comment/work-hour lists.
        echo: Where to print the connection details (default: stdout, flushed).
        stop_event: Stop serving when this event is set (for embedding and tests).
        api_shape: ``"contract"`` or ``"published"`` (see :mod:`pipelines.sandbox.shapes`).
        timestamp_format: ``"iso"``, ``"iso7"``, ``"dotnet"`` or ``"dotnet-offset"``.
        sla_audit_tickets: Add the fixed SLA-audit tickets (:mod:`pipelines.sandbox.sla_audit`).
        dialect: Deprecated name of ``api_shape`` (a :class:`DeprecationWarning`).
    """
    if dialect is not None:
        warnings.warn(
            "serve(dialect=...) is deprecated: use api_shape=", DeprecationWarning, stacklevel=2
        )
        api_shape = dialect
    api_shape = normalize_api_shape(api_shape, stacklevel=3)
    sandbox = AteraSandbox(
        api_key=api_key,
        tickets=tickets,
        seed=seed,
        rate_limit=rate_limit or None,
        latency_ms=latency_ms,
        child_envelope=child_envelope,
        host=host,
        port=port,
        api_shape=api_shape,
        timestamp_format=timestamp_format,
        sla_audit_tickets=sla_audit_tickets,
    )
    echo = echo or _print
    stop = stop_event or threading.Event()
    with sandbox:
        echo(f"Atera sandbox serving {len(sandbox.store)} tickets ({_describe(sandbox)})")
        echo(f"  base URL: {sandbox.base_url}")
        echo(f"  API URL:  {sandbox.api_url}")
        if api_shape == PUBLISHED:
            echo(f"  API key:  {api_key}  (send it as X-API-KEY or Authorization: Bearer)")
        else:
            echo(f"  API key:  {api_key}  (send it as the X-API-KEY header)")
        echo("Press Ctrl-C to stop.")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            echo("Stopping the sandbox.")


def _describe(sandbox: AteraSandbox) -> str:
    shape = f"{sandbox.api_shape} API shape"
    if sandbox.timestamp_format == ISO:
        return shape
    return f"{shape}, {sandbox.timestamp_format} timestamps"


def _print(line: str) -> None:
    print(line, flush=True)


@click.command(name="sandbox", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", default=8765, show_default=True, type=int, help="Port to bind; 0 picks a free one."
)
@click.option("--tickets", default=2847, show_default=True, type=int, help="Seeded tickets.")
@click.option("--seed", default=42, show_default=True, type=int, help="Data generator seed.")
@click.option("--api-key", default="sandbox-key", show_default=True, help="Key to accept.")
@click.option(
    "--rate-limit",
    default=700,
    show_default=True,
    type=int,
    help="Requests per minute per key; 0 = unlimited.",
)
@click.option(
    "--latency-ms", default=0.0, show_default=True, type=float, help="Delay added to each request."
)
@click.option(
    "--child-envelope",
    type=click.Choice(["items", "paged"]),
    default="items",
    show_default=True,
    help="Envelope of comment and work-hour lists (contract shape only).",
)
@click.option(
    "--api-shape",
    type=click.Choice(API_SHAPES),
    default=CONTRACT,
    show_default=True,
    help="contract: the ticket contract this project was specified from; "
    "published: Atera's published OpenAPI v3.",
)
@click.option(
    "--timestamp-format",
    type=click.Choice(TIMESTAMP_FORMATS),
    default=ISO,
    show_default=True,
    help="iso: each shape's own; iso7: 7 fractional digits, UTC, no offset; "
    "dotnet: /Date(ms)/; dotnet-offset: /Date(ms+0100)/.",
)
@click.option(
    "--sla-audit-tickets",
    is_flag=True,
    default=False,
    help="Add three fixed tickets that exercise the SLA rules (pipelines/sandbox/sla_audit.py).",
)
@click.option(
    "--dialect",
    type=click.Choice(sorted(DEPRECATED_NAMES)),
    default=None,
    hidden=True,  # kept so old scripts keep working; --api-shape replaces it
    help="Deprecated: use --api-shape (seed = contract, v3 = published).",
)
@click.pass_context
def sandbox_command(
    ctx: click.Context,
    host: str,
    port: int,
    tickets: int,
    seed: int,
    api_key: str,
    rate_limit: int,
    latency_ms: float,
    child_envelope: str,
    api_shape: str,
    timestamp_format: str,
    sla_audit_tickets: bool,
    dialect: str | None,
) -> None:
    """Serve the Atera sandbox (a local stand-in for Atera's ticket API)."""
    if dialect is not None:
        api_shape = _shape_from_dialect(ctx, dialect, api_shape)
    serve(
        host=host,
        port=port,
        tickets=tickets,
        seed=seed,
        api_key=api_key,
        rate_limit=rate_limit,
        latency_ms=latency_ms,
        child_envelope=child_envelope,
        api_shape=api_shape,
        timestamp_format=timestamp_format,
        **_only_if_set(sla_audit_tickets=sla_audit_tickets),
    )


def _only_if_set(**flags: bool) -> dict[str, Any]:
    """The flags that are on (an off flag is left to ``serve``'s default)."""
    return {name: True for name, value in flags.items() if value}


def _shape_from_dialect(ctx: click.Context, dialect: str, api_shape: str) -> str:
    """The API shape the deprecated ``--dialect`` names; note the deprecation on stderr.

    Raises:
        click.UsageError: When ``--api-shape`` was also given and names another shape.
    """
    shape = DEPRECATED_NAMES[dialect]
    if ctx.get_parameter_source("api_shape") != ParameterSource.DEFAULT and api_shape != shape:
        raise click.UsageError(f"--dialect {dialect} and --api-shape {api_shape} disagree")
    click.echo(f"Note: --dialect is deprecated; use --api-shape {shape}.", err=True)
    return shape

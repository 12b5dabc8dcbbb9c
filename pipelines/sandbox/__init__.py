"""Atera sandbox: a loopback HTTP server that behaves like the Atera ticket API."""

from __future__ import annotations

from pipelines.sandbox.server import AteraSandbox

__all__ = ["AteraSandbox"]

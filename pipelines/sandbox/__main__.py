"""``python -m pipelines.sandbox``: the same command as ``atera-sync sandbox``."""

from __future__ import annotations

from pipelines.sandbox.cli import sandbox_command

if __name__ == "__main__":
    sandbox_command(prog_name="python -m pipelines.sandbox")

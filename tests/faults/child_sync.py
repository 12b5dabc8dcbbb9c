"""A sync in a child process that SIGKILLs itself at a chosen point (for kill tests).

Usage: python -m tests.faults.child_sync BASE_URL API_KEY DUCKDB_PATH KILL_AT [CHUNK_PAGES]
       [DESTINATION]

KILL_AT is one of:
  extract:N    while fetching comments, after N comment calls
  normalize:N  when dlt starts normalizing load number N
  load:N       in dlt's load step, once N table jobs have completed (merges not yet run)
  jobs:N       in dlt's load step, when it starts its jobs for the Nth time (the package's
               tables and staging tables were prepared, no job ran yet)
  never        run to completion
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import dlt
from dlt.load.load import Load

from pipelines.atera.client import AteraClient
from pipelines.atera.config import AteraConfiguration
from pipelines.sync import run_sync


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(kill_at: str) -> None:
    stage, _, count = kill_at.partition(":")
    limit = int(count or 1)
    calls = {"n": 0}

    def counted(original):
        def wrapper(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] >= limit:
                die()
            return original(*args, **kwargs)

        return wrapper

    if stage == "extract":
        AteraClient.get_comments = counted(AteraClient.get_comments)
    elif stage == "normalize":
        dlt.Pipeline.normalize = counted(dlt.Pipeline.normalize)
    elif stage == "load":
        Load.create_followup_jobs = counted(Load.create_followup_jobs)
    elif stage == "jobs":
        Load.start_new_jobs = counted(Load.start_new_jobs)


def main() -> None:
    base_url, api_key, duckdb_path, kill_at = sys.argv[1:5]
    config = AteraConfiguration()
    config.api_key = api_key
    config.base_url = base_url
    config.rate_limit_per_minute = 100_000
    config.concurrency = 2
    if len(sys.argv) > 5:
        config.full_sync_chunk_pages = int(sys.argv[5])
    destination = sys.argv[6] if len(sys.argv) > 6 else "duckdb"
    if kill_at != "never":
        arm(kill_at)
    run_sync(config, Path(duckdb_path), destination=destination)


if __name__ == "__main__":
    main()

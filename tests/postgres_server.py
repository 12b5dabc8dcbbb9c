"""A throwaway PostgreSQL server for the tests and benchmarks: `initdb` + `pg_ctl`.

The server runs from a temporary folder on a free loopback port, as a non-root user
(PostgreSQL refuses to run as root: as root, the Debian `postgres` user runs it), with
password authentication. `find_binaries()` looks on PATH, then in Debian's
`/usr/lib/postgresql/<version>/bin`; `.ci/run` installs the `postgresql` package where it
is missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "atera-test-pw"
USER = "atera_test"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (or no user to run them as)."""


def find_binaries() -> Path:
    """The folder holding `initdb`, `pg_ctl` and `postgres`.

    Raises:
        PostgresUnavailable: with what to install.
    """
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's `postgresql` "
        "package (`apt-get install postgresql`), as .ci/run does"
    )


def _run_as() -> str | None:
    """The user to run the server as: None when not root, else `postgres` (or nobody)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and no `postgres` user to run the server as")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server; `dsn(database)` gives a connection string for dlt and psycopg2."""

    port: int = 0
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atera-pg-")))
    _user: str | None = None

    def start(self) -> PostgresServer:
        binaries = find_binaries()
        self._user = _run_as()
        self.port = self.port or free_port()
        data = self.root / "data"
        password_file = self.root / "pw"
        password_file.write_text(PASSWORD + "\n")
        self.root.chmod(0o755)
        if self._user is not None:
            shutil.chown(self.root, self._user)
            shutil.chown(password_file, self._user)
        self._as_user(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--pwfile",
                str(password_file),
                "--auth",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale",
                "C",
            ]
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=60"
        )
        self._as_user(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(self.root / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ]  # fmt: skip
        )
        return self

    def stop(self) -> None:
        data = self.root / "data"
        if data.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._as_user(
                    [str(find_binaries() / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
                )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "atera") -> str:
        """A new empty database; returns its name."""
        import psycopg2

        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        con = psycopg2.connect(self.dsn())
        con.autocommit = True
        try:
            with con.cursor() as cursor:
                cursor.execute(f'create database "{name}"')
        finally:
            con.close()
        return name

    def _as_user(self, command: list[str]) -> None:
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(
                result.returncode,
                command,
                output=result.stdout,
                stderr=f"{result.stderr} (after {time.monotonic() - started:.1f}s)",
            )

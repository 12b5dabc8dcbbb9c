"""dbt profiles for server warehouses, made from dlt's credentials of the destination.

A user configures a destination once, the dlt way (`.dlt/secrets.toml` or
`DESTINATION__<NAME>__CREDENTIALS`); the dbt profile is derived from it.
Secrets stay out of the profile file: it reads them from environment variables
that are set only for the length of the dbt call. The session time zone is UTC
on every engine (`PGTZ` for PostgreSQL), as on DuckDB, so no figure depends on
the server's or the machine's zone.

PostgreSQL is verified by the tests on a real server; MotherDuck goes through
dbt-duckdb (`md:` paths); BigQuery and Snowflake need their dbt adapter
installed (`pip install dbt-bigquery` / `dbt-snowflake`) and are not verified
against a live account (see docs/destinations.md).
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.atera.errors import ConfigurationError
from pipelines.models.dbt_build import THREADS, ServerProfile
from pipelines.server_warehouse import ServerWarehouse

SECRET_ENV = "ATERA_DBT_SERVER_SECRET"
"""The password, token or private key of the server, for the profile's `env_var`."""

_SECRET = "{{ env_var('" + SECRET_ENV + "') }}"


def server_profile(warehouse: ServerWarehouse, threads: int = THREADS) -> ServerProfile:
    """The profile that builds the models in `warehouse`'s database.

    Raises:
        ConfigurationError: the destination has no dbt profile mapping here.
    """
    build = _OUTPUTS.get(warehouse.destination)
    if build is None:
        raise ConfigurationError(f"no dbt profile for the {warehouse.destination} destination")
    output, secret = build(warehouse.credentials)
    output = {**output, "threads": threads}
    profile = {
        "atera_sync": {"target": warehouse.destination, "outputs": {warehouse.destination: output}}
    }
    environment = {SECRET_ENV: secret or "", "PGTZ": "UTC"}
    return ServerProfile(
        text=json.dumps(profile, indent=2),  # JSON is YAML
        environment=environment,
        work_dir=warehouse.dbt_work_dir,
    )


def _postgres(c: Any) -> tuple[dict[str, Any], str | None]:
    return {
        "type": "postgres",
        "host": c.host,
        "port": int(c.port or 5432),
        "user": c.username,
        "password": _SECRET,
        "dbname": c.database,
        "schema": "analytics",
        "connect_timeout": int(getattr(c, "connect_timeout", 15) or 15),
        "keepalives_idle": 30,
    }, c.password


def _motherduck(c: Any) -> tuple[dict[str, Any], str | None]:
    return {
        "type": "duckdb",
        "path": f"md:{c.database}",
        "schema": "analytics",
        "settings": {"TimeZone": "UTC", "motherduck_token": _SECRET},
    }, c.password


def _bigquery(c: Any) -> tuple[dict[str, Any], str | None]:
    keyfile = {
        "type": "service_account",
        "project_id": c.project_id,
        "client_email": c.client_email,
        "private_key": "__SECRET__",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    text = json.dumps(keyfile).replace('"__SECRET__"', json.dumps(_SECRET))
    return {
        "type": "bigquery",
        "method": "service-account-json",
        "project": c.project_id,
        "dataset": "analytics",
        "keyfile_json": json.loads(text),
        "location": _bigquery_location(c),
    }, c.private_key


def _bigquery_location(c: Any) -> str:
    """dlt's `[destination.bigquery] location` (where it creates `atera_raw`): the marts
    must be in the same location, or BigQuery refuses queries across the two."""
    import dlt

    configured = dlt.config.get("destination.bigquery.location", str)
    return str(configured or getattr(c, "location", None) or "US")


def _snowflake(c: Any) -> tuple[dict[str, Any], str | None]:
    output = {
        "type": "snowflake",
        "account": c.host,
        "user": c.username,
        "password": _SECRET,
        "database": c.database,
        "schema": "analytics",
    }
    for name in ("warehouse", "role"):
        if getattr(c, name, None):
            output[name] = getattr(c, name)
    return output, c.password


_OUTPUTS = {
    "postgres": _postgres,
    "motherduck": _motherduck,
    "bigquery": _bigquery,
    "snowflake": _snowflake,
}

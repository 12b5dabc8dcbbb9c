"""MotherDuck, BigQuery and Snowflake, offline: the dbt profile derived from dlt's credentials,
and the dbt project parsed (and compiled, where the adapter needs no connection for it).

No cloud account is reached: the credentials are fake. What this proves: dlt reads each
destination's credentials the documented way, `server_profiles` turns them into a
profile the adapter accepts (the secret only in an environment variable), and every
model and test of the project parses with that adapter; for MotherDuck and Snowflake
every model also compiles into the adapter's SQL. BigQuery's adapter opens a
connection (an OAuth token request) before it compiles, so BigQuery is parsed only.
Nothing here runs SQL on those engines (docs/destinations.md, "What is verified").

dbt-duckdb (MotherDuck's adapter) is a dependency, so that case always runs; the
BigQuery and Snowflake cases need `pip install -e ".[bigquery]"` / `".[snowflake]"`
(about 300 MB together) and are skipped, loudly, without them.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import pytest

from pipelines.models.dbt_build import dbt_environment, invoke_dbt
from pipelines.models.server_profiles import SECRET_ENV, server_profile
from pipelines.server_warehouse import ServerWarehouse

FAKE_SECRET = "fake-secret-7c1d"
FAKE_KEY = f"-----BEGIN PRIVATE KEY-----\n{FAKE_SECRET}\n-----END PRIVATE KEY-----\n"

CREDENTIALS: dict[str, dict[str, str]] = {
    "motherduck": {
        "DESTINATION__MOTHERDUCK__CREDENTIALS": f"md:atera?motherduck_token={FAKE_SECRET}",
    },
    "bigquery": {
        "DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID": "atera-test",
        "DESTINATION__BIGQUERY__CREDENTIALS__CLIENT_EMAIL": "sync@atera-test.iam.example",
        "DESTINATION__BIGQUERY__CREDENTIALS__PRIVATE_KEY": FAKE_KEY,
        "DESTINATION__BIGQUERY__LOCATION": "EU",
    },
    "snowflake": {
        "DESTINATION__SNOWFLAKE__CREDENTIALS": (
            f"snowflake://loader:{FAKE_SECRET}@kgiotue-wn98412/ATERA?warehouse=COMPUTE_WH&role=LOADER"
        ),
    },
}

ADAPTERS = {"motherduck": "duckdb", "bigquery": "bigquery", "snowflake": "snowflake"}
COMPILES_OFFLINE = {"motherduck", "snowflake"}
COMPILED_REFERENCE = {
    "motherduck": '"atera"."intermediate"."int_ticket_sla_judgements"',
    "snowflake": "ATERA.intermediate.int_ticket_sla_judgements",
}
MART = "model.atera_sync.sla_first_response_by_priority"


def _warehouse(
    destination: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ServerWarehouse:
    for name, value in CREDENTIALS[destination].items():
        monkeypatch.setenv(name, value)
    return ServerWarehouse(destination, state_root=tmp_path)


def _require_adapter(destination: str) -> None:
    adapter = ADAPTERS[destination]
    if importlib.util.find_spec(f"dbt.adapters.{adapter}") is None:
        reason = (
            f"dbt-{adapter} is not installed: the {destination} project check needs "
            f'`pip install -e ".[{destination}]"`'
        )
        warnings.warn(reason, stacklevel=1)
        pytest.skip(reason)


@pytest.mark.parametrize("destination", ["motherduck", "bigquery", "snowflake"])
def test_profile_from_dlt_credentials_keeps_the_secret_out_of_the_file(
    destination: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = server_profile(_warehouse(destination, tmp_path, monkeypatch))
    output = json.loads(profile.text)["atera_sync"]["outputs"][destination]
    assert output["type"] == ADAPTERS[destination]
    assert FAKE_SECRET not in profile.text
    assert FAKE_SECRET in profile.environment[SECRET_ENV]
    assert output.get("schema", output.get("dataset")) == "analytics"
    expected = {
        "motherduck": ("path", "md:atera"),
        "bigquery": ("location", "EU"),
        "snowflake": ("warehouse", "COMPUTE_WH"),
    }[destination]
    assert output[expected[0]] == expected[1]


@pytest.mark.parametrize("destination", ["motherduck", "bigquery", "snowflake"])
def test_the_dbt_project_parses_and_compiles_offline(
    destination: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_adapter(destination)
    profile = server_profile(_warehouse(destination, tmp_path, monkeypatch))
    offline = destination in COMPILES_OFFLINE
    # compile parses first; --no-populate-cache: no listing of the server's schemas
    command = ["compile", "--no-populate-cache"] if offline else ["parse"]
    with dbt_environment(profile.environment):
        result = invoke_dbt(command, profile.work_dir, profile=profile.text)
    assert FAKE_SECRET not in (profile.work_dir / "profiles.yml").read_text()
    manifest = json.loads((profile.work_dir / "target" / "manifest.json").read_text())
    models = [key for key in manifest["nodes"] if key.startswith("model.")]
    assert MART in models
    assert len([key for key in manifest["nodes"] if key.startswith("test.")]) > 50
    if offline:
        compiled = {r.node.unique_id for r in result.result.results if str(r.status) == "success"}
        assert set(models) <= compiled
        sql = (profile.work_dir / "target" / "compiled" / "atera_sync").rglob(
            "fct_ticket_first_response_sla.sql"
        )
        text = next(iter(sql)).read_text()
        # the database of dlt's credentials, as each adapter quotes it
        assert COMPILED_REFERENCE[destination] in text

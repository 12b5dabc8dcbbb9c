"""atera-sync on Apache Airflow: a nightly sync, then a freshness check.

Copy this file into the DAGs folder of an Airflow (2.5 or later) whose Python
environment has atera-sync installed (`pip install /path/to/atera-sync`), and
set the Airflow variable or environment `SOURCES__ATERA__API_KEY` for the
workers (a secrets backend works: the key is read from the environment of the
task). The warehouse must live on a disk the workers share (ATERA_DUCKDB).

The tasks sit in dlt's own Airflow task group (`PipelineTasksGroup` from
`dlt.helpers.airflow_helper`), which gives dlt a per-task data folder in
Airflow's temporary storage, wipes it after the run and sends dlt's log to the
task log. The sync itself is `pipelines.sync.run_sync`, not the group's
`add_run`: `add_run` would load a bare dlt pipeline straight into the
warehouse, without atera-sync's working copy and atomic publish, its run lock,
its run history and its SQL models.

Exit codes map onto Airflow states: a run that finds another run writing the
same warehouse (atera-sync exit 3) is skipped, any other failure fails the task
(and Airflow retries it); the freshness check fails when `atera-sync status`
would exit non-zero (4 the last run failed, 5 stale, 6 no run yet).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowSkipException
from airflow.operators.python import PythonOperator
from dlt.helpers.airflow_helper import PipelineTasksGroup

DUCKDB_PATH = Path(os.environ.get("ATERA_DUCKDB", "/srv/atera-sync/data/atera.duckdb"))
MAX_AGE = "26h"


def sync_warehouse() -> dict[str, int]:
    """`atera-sync run`: sync, build the SQL models, publish; raise on failure."""
    import duckdb

    from pipelines.atera.config import load_atera_configuration
    from pipelines.models import load_model_settings, run_models
    from pipelines.sync import SyncAlreadyRunning, run_sync

    settings = load_model_settings()

    def build_models(work_path: Path) -> None:
        with duckdb.connect(str(work_path)) as con:
            run_models(con, settings=settings)

    try:
        result = run_sync(load_atera_configuration(), DUCKDB_PATH, after_load=build_models)
    except SyncAlreadyRunning as exc:  # exit 3: the previous run is still writing
        raise AirflowSkipException(str(exc)) from exc
    return {**result.rows, "api_calls": result.api_calls}


def check_freshness() -> str:
    """`atera-sync status --max-age 26h`: fail unless the warehouse is fresh."""
    import duckdb

    from pipelines.status import NoRunYet, parse_max_age, read_status

    if not DUCKDB_PATH.exists():
        raise AirflowException(f"no warehouse at {DUCKDB_PATH} (atera-sync status exit 6)")
    with duckdb.connect(str(DUCKDB_PATH), read_only=True) as con:
        try:
            status = read_status(con.cursor(), parse_max_age(MAX_AGE))
        except NoRunYet as exc:
            raise AirflowException(f"{exc} (atera-sync status exit 6)") from exc
    if status.exit_code != 0:
        raise AirflowException(
            f"warehouse is {status.state} (atera-sync status exit {status.exit_code}): "
            f"{status.as_dict()}"
        )
    return status.state


with DAG(
    dag_id="atera_sync",
    schedule="15 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=15)},
    tags=["atera", "dlt"],
) as dag:
    tasks = PipelineTasksGroup("atera_sync", use_data_folder=False, wipe_local_data=True)
    with tasks:
        sync = PythonOperator(task_id="sync", python_callable=sync_warehouse)
        freshness = PythonOperator(
            task_id="freshness",
            python_callable=check_freshness,
            trigger_rule="all_done",  # also after a failed sync: say how stale it is
            retries=0,
        )
        sync >> freshness

"""ModelSettings validation and `[models]` overrides from dlt config."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.models import ModelSettings, ModelSettingsError
from pipelines.models.settings import DEFAULT_SLA_TARGETS

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_contracts_targets_in_calendar_minutes() -> None:
    settings = ModelSettings()
    assert dict(settings.sla_targets) == {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440}
    assert settings.business_hours is None
    assert settings.pause_sla_when_pending is False
    assert settings.time_zone == "UTC"
    assert dict(DEFAULT_SLA_TARGETS) == dict(settings.sla_targets)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sla_targets": {"Critical": 0}},
        {"sla_targets": {"Low": float("inf")}},
        {"sla_targets": {"High": "soon"}},
        {"sla_targets": {"Unknown": 10}},
        {"time_zone": "Mars/Olympus_Mons"},
    ],
)
def test_invalid_settings_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ModelSettingsError):
        ModelSettings(**kwargs)


_DUMP = (
    "import json; from pipelines.models import load_model_settings as load; s = load(); "
    "b = s.business_hours; "
    "print(json.dumps({'targets': dict(s.sla_targets), 'pause': s.pause_sla_when_pending, "
    "'tz': s.time_zone, 'weekly': b and [b.weekly[d] for d in range(7)], "
    "'holidays': b and sorted(str(d) for d in b.holidays)}))"
)


def _load_in(directory: Path, **env: str) -> dict:
    """Run load_model_settings in a fresh interpreter, in `directory`, with only `env` set."""
    base = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(directory)}
    output = subprocess.run(
        [sys.executable, "-c", _DUMP],
        cwd=directory,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert output.returncode == 0, output.stderr
    return json.loads(output.stdout.strip().splitlines()[-1])


def test_environment_overrides(tmp_path: Path) -> None:
    loaded = _load_in(
        tmp_path,
        MODELS__SLA_TARGETS__CRITICAL="30",
        MODELS__PAUSE_SLA_WHEN_PENDING="true",
        MODELS__TIME_ZONE="Europe/Amsterdam",
        MODELS__BUSINESS_HOURS__ENABLED="true",
        MODELS__BUSINESS_HOURS__SATURDAY="10:00-14:00",
        MODELS__BUSINESS_HOURS__HOLIDAYS='["2025-12-25"]',
    )
    office = [[540, 1020]]
    assert loaded == {
        "targets": {"Critical": 30, "High": 240, "Medium": 480, "Low": 1440},
        "pause": True,
        "tz": "Europe/Amsterdam",
        "weekly": [office, office, office, office, office, [[600, 840]], []],
        "holidays": ["2025-12-25"],
    }


def test_no_configuration_gives_the_defaults(tmp_path: Path) -> None:
    assert _load_in(tmp_path) == {
        "targets": {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440},
        "pause": False,
        "tz": "UTC",
        "weekly": None,
        "holidays": None,
    }


def test_config_toml_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text(
        textwrap.dedent(
            """
            [models]
            pause_sla_when_pending = true
            time_zone = "America/New_York"

            [models.sla_targets]
            Critical = 30
            Urgent = 15

            [models.business_hours]
            enabled = true
            monday = "08:00-12:00, 13:00-17:00"
            friday = "closed"
            holidays = ["2025-12-25"]
            """
        )
    )
    loaded = _load_in(tmp_path, MODELS__SLA_TARGETS__HIGH="200")
    office = [[540, 1020]]
    assert loaded == {
        "targets": {"Critical": 30, "High": 200, "Medium": 480, "Low": 1440, "Urgent": 15},
        "pause": True,
        "tz": "America/New_York",
        "weekly": [[[480, 720], [780, 1020]], office, office, office, [], [], []],
        "holidays": ["2025-12-25"],
    }

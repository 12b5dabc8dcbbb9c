"""`[sources.atera]` settings: the API shape under its current and its old names."""

from __future__ import annotations

import pytest

from pipelines.atera.config import load_atera_configuration
from pipelines.atera.errors import ConfigurationError


@pytest.mark.parametrize(
    ("env", "shape"),
    [
        ({}, "auto"),
        ({"SOURCES__ATERA__API_SHAPE": "published"}, "published"),
        ({"SOURCES__ATERA__API_SHAPE": "Contract"}, "contract"),
    ],
)
def test_api_shape_setting(monkeypatch: pytest.MonkeyPatch, env: dict, shape: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_atera_configuration().resolved_api_shape() == shape


@pytest.mark.parametrize(("old", "new"), [("v3", "published"), ("seed", "contract")])
def test_the_old_setting_still_works_with_a_deprecation_warning(
    monkeypatch: pytest.MonkeyPatch, old: str, new: str
) -> None:
    monkeypatch.setenv("SOURCES__ATERA__API_FLAVOR", old)
    config = load_atera_configuration()
    with pytest.warns(DeprecationWarning, match=f"api_flavor '{old}' is deprecated: use '{new}'"):
        assert config.resolved_api_shape() == new


def test_the_old_values_work_under_the_new_name_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__ATERA__API_SHAPE", "v3")
    with pytest.warns(DeprecationWarning, match="use 'published'"):
        assert load_atera_configuration().resolved_api_shape() == "published"


def test_an_unknown_shape_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__ATERA__API_SHAPE", "v2")
    with pytest.raises(ConfigurationError, match="auto, contract .* or published"):
        load_atera_configuration().resolved_api_shape()

"""The report as a browser draws it: headless Chromium takes a screenshot and dumps the
rendered DOM of the page (the one whose names are markup)."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from tests.report.conftest import SCRIPT_PAYLOAD

CHROMIUM = "/usr/bin/chromium"
WINDOW = (1280, 2400)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
]
TITLES = (
    "Compliance by priority",
    "Weekly compliance trend",
    "Response-time distribution",
    "Backlog by age",
    "Billable hours by technician",
    "Breached in the last 7 days",
)
BAR_COLOURS = {"Critical": (0xD5, 0x5E, 0x00), "Medium": (0x00, 0x72, 0xB2)}


def _skip_loudly(reason: str) -> None:
    message = f"the report was NOT checked in a browser: {reason}"
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing and running as root."""
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found:
        return found
    if os.geteuid() != 0:
        _skip_loudly(
            f"{CHROMIUM} is missing and installing it needs root (apt-get install chromium)"
        )
    try:
        subprocess.run(
            ["apt-get", "install", "-y", "chromium"],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            capture_output=True,
            check=True,
            timeout=900,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        _skip_loudly(f"`apt-get install -y chromium` failed: {exc}")
    return shutil.which("chromium") or CHROMIUM


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_chromium_draws_every_chart_and_no_injected_markup(
    chromium: str, hostile_page: Path, tmp_path: Path
) -> None:
    url = hostile_page.resolve().as_uri()
    screenshot = tmp_path / "report.png"
    run_chromium(chromium, tmp_path / "profile-1", f"--screenshot={screenshot}", url)
    dom = run_chromium(chromium, tmp_path / "profile-2", "--dump-dom", url).stdout

    for title in TITLES:
        assert f"<h2>{title}</h2>" in dom
    assert dom.count("<svg") >= 7
    assert dom.count("<rect") > 60 and dom.count("<path") > 4
    # the names that are markup stayed text
    assert "<script" not in dom and "<img" not in dom
    assert SCRIPT_PAYLOAD.replace("<", "&lt;").replace(">", "&gt;") in dom

    with Image.open(screenshot) as image:
        assert image.size == WINDOW
        pixels = Counter(image.convert("RGB").getdata())
    total = WINDOW[0] * WINDOW[1]
    (background, most), *_ = pixels.most_common(1)
    assert len(pixels) > 500, "the screenshot is nearly blank"
    assert most < total * 0.85, f"most of the screenshot is one colour, {background}"
    assert total - pixels[(255, 255, 255)] > total * 0.1
    for priority, colour in BAR_COLOURS.items():
        assert pixels[colour] > 2_000, f"no {priority} bars drawn"

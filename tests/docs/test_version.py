"""One version, in api/version.py: pyproject.toml, the OpenAPI document and CHANGELOG.md agree.

The rule between releases: `[Unreleased]` collects changes while the version stays the last
released one; a release renames `[Unreleased]` to `[x.y.z] - YYYY-MM-DD` and sets `__version__`
to x.y.z in the same commit. No pre-release versions are published.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from datetime import date
from pathlib import Path

import pytest
from setuptools.config.pyprojecttoml import read_configuration

from api.app import create_app
from api.config import Settings
from api.version import __version__

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = ROOT / "CHANGELOG.md"
# Keep a Changelog 1.1.0: the kinds of change, in the order a version lists them.
SECTION_ORDER = ["Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"]
RELEASE = re.compile(r"^\[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$")


def versions() -> list[tuple[str, list[str]]]:
    """Each `## ` heading of CHANGELOG.md with its `### ` headings, top to bottom."""
    found: list[tuple[str, list[str]]] = []
    for line in CHANGELOG.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            found.append((line[3:].strip(), []))
        elif line.startswith("### "):
            assert found, f"{line!r} comes before any version heading"
            found[-1][1].append(line[4:].strip())
    return found


def releases() -> list[tuple[str, date]]:
    parsed = []
    for heading, _ in versions()[1:]:
        match = RELEASE.match(heading)
        assert match, f"{heading!r} is not `[x.y.z] - YYYY-MM-DD`"
        parsed.append((match[1], date.fromisoformat(match[2])))
    return parsed


def test_version_is_semantic() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_unreleased_comes_first() -> None:
    assert versions()[0][0] == "[Unreleased]"


def test_newest_release_is_the_version() -> None:
    newest, _ = releases()[0]
    assert newest == __version__


def test_releases_run_newest_first() -> None:
    listed = releases()
    numbers = [tuple(int(part) for part in number.split(".")) for number, _ in listed]
    assert numbers == sorted(numbers, reverse=True)
    assert len(set(numbers)) == len(numbers)
    dates = [day for _, day in listed]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("heading", [heading for heading, _ in versions()])
def test_sections_follow_keep_a_changelog_order(heading: str) -> None:
    sections = dict(versions())[heading]
    assert sections, f"{heading} lists no changes"
    unknown = [section for section in sections if section not in SECTION_ORDER]
    assert not unknown, f"{heading}: {unknown} are not Keep a Changelog sections"
    assert sections == sorted(sections, key=SECTION_ORDER.index), heading
    assert len(set(sections)) == len(sections), f"{heading} repeats a section"


def test_pyproject_takes_the_version_from_api_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    dynamic = project["tool"]["setuptools"]["dynamic"]
    assert dynamic["version"] == {"attr": "api.version.__version__"}


def test_setuptools_resolves_that_version() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # older setuptools call [tool.setuptools] "beta"
        config = read_configuration(ROOT / "pyproject.toml", expand=True)
    assert config["project"]["version"] == __version__


def test_openapi_document_carries_the_version() -> None:
    app = create_app(Settings.from_env({"STAGE": "dev"}))
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["info"]["version"] == __version__

"""Tests for pyproject.toml: metadata in the forms current build tools read without warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
CONFIG = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_license_is_an_spdx_expression():
    # PEP 639: a table (license = {text = "MIT"}) is deprecated by the build tools.
    assert CONFIG["project"]["license"] == "MIT"


def test_the_build_backend_is_pinned_and_in_the_dev_extra():
    (backend,) = CONFIG["build-system"]["requires"]
    assert re.fullmatch(r"hatchling==[\d.]+", backend)
    # The wheel test builds offline with the same backend (pip wheel --no-build-isolation).
    assert backend in CONFIG["project"]["optional-dependencies"]["dev"]


def test_notebooks_and_templates_ship_inside_the_package():
    shipped = CONFIG["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert shipped == {"notebooks": "hwb_toolkit/notebooks", "templates": "hwb_toolkit/templates"}

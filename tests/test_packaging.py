"""Tests for pyproject.toml: metadata in the forms current build tools read without warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_license_is_an_spdx_expression_which_the_build_reads_without_a_warning():
    # setuptools 77 and later warn that a table (license = {text = "MIT"}) is deprecated and
    # will stop building in 2027; the SPDX string needs setuptools 77 to build at all.
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert config["project"]["license"] == "MIT"
    (setuptools,) = [r for r in config["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.fullmatch(r"setuptools>=(\d+)", setuptools)
    assert minimum and int(minimum.group(1)) >= 77

"""Shared fixtures for the whole-system tests: a tiny strategy and actions register as files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hwb_toolkit.system import load_strategy

STRATEGY_YAML = """\
name: Tiny Partnership
home_area: E08000021
vision: >
  Everyone lives an active, connected life.
objectives:
  - id: active-lives
    title: Active lives
    description: More people moving more.
  - id: connected
    title: Connected communities
themes:
  - id: walking-cycling
    objective: active-lives
    title: Walking and cycling
    keywords: [walk, cycle]
  - id: parks
    objective: active-lives
    title: Parks and green space
    keywords: [park]
  - id: loneliness
    objective: connected
    title: Loneliness
indicators:
  - id: 93014
    name: Physically active adults
    polarity: high_is_good
    calculator: proportion
    multiplier: 100
    objective: active-lives
    theme: walking-cycling
  - id: 90641
    name: Loneliness
    polarity: low_is_good
    calculator: proportion
    multiplier: 100
    objective: connected
    goal: 20
stakeholders:
  - organisation: Example City Council
    sector: council
  - organisation: Example NHS Trust
    sector: nhs
  - organisation: Age Well
    sector: vcse
  - organisation: Pedal Co
    sector: business
"""


@pytest.fixture
def make_file(tmp_path):
    """A function writing dedented text to ``tmp_path/name`` (UTF-8) and returning the path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def strategy_yaml() -> str:
    return STRATEGY_YAML


@pytest.fixture
def strategy_path(make_file) -> Path:
    return make_file("strategy.yaml", STRATEGY_YAML)


@pytest.fixture
def strategy(strategy_path):
    return load_strategy(strategy_path)

"""Where the files that ship with the toolkit are: the notebooks, the templates and the
example workspace. The one module that knows.

Installed from a wheel they are package data under ``hwb_toolkit/``, found through
:mod:`importlib.resources`: the build copies the repository's top-level ``notebooks/`` and
``templates/`` there (``[tool.hatch.build.targets.wheel.force-include]`` in
pyproject.toml), and ``example_workspace/`` lives in the package already. An editable
install (``pip install -e .``, as ``make setup`` does) puts the checkout's own folder on
the path instead, and hatchling's editable mode does not copy force-included folders, so
there the notebooks and templates are found at the top of the checkout, where analysts
edit them (and an edit shows at once, with no reinstall).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hwb_toolkit.errors import ConfigError

#: The notebook ``hwb report`` and ``hwb batch`` run for each area.
BRIEFING_NOTEBOOK = "monthly_briefing.ipynb"


def _shipped(name: str) -> Path:
    """The folder ``name`` inside the installed package, else at the top of the checkout."""
    installed = Path(str(resources.files("hwb_toolkit") / name))
    if installed.is_dir():
        return installed
    checkout = Path(__file__).resolve().parents[1] / name
    if checkout.is_dir():
        return checkout
    raise ConfigError(f"the {name} folder is missing from this installation of hwb-toolkit",
                      file=installed)


def notebooks_dir() -> Path:
    """The folder of the briefing notebook and the page notebooks."""
    return _shipped("notebooks")


def briefing_notebook() -> Path:
    """The monthly briefing notebook (run by Papermill for each area)."""
    return notebooks_dir() / BRIEFING_NOTEBOOK


def templates_dir() -> Path:
    """The folder of the narrative's Jinja templates (and ``nbconvert/`` for the report)."""
    return _shipped("templates")


def example_workspace_dir() -> Path:
    """The example workspace (read only: ``hwb init`` copies it)."""
    return _shipped("example_workspace")

"""hwb_toolkit: a sense-making workbench for health and wellbeing partnerships.

Layers (each imports only from those below it):

- I/O: :mod:`hwb_toolkit.io` (files), :mod:`hwb_toolkit.store` (the shared store)
- analysis: :mod:`hwb_toolkit.indicators`, :mod:`hwb_toolkit.voices`, :mod:`hwb_toolkit.system`
- presentation: :mod:`hwb_toolkit.charts`, :mod:`hwb_toolkit.narrative`
- orchestration: :mod:`hwb_toolkit.briefing`, :mod:`hwb_toolkit.pipeline`, :mod:`hwb_toolkit.cli`
- UI: :mod:`hwb_toolkit.apps`
"""

import sys

# jsonschema (imported by altair, nbformat, Jupyter) loads the optional, unmaintained
# rfc3987-syntax package when installed, and that package compiles a parser grammar at
# import: 2.2-4.9 s measured here, in every kernel of every briefing (upstream:
# python-jsonschema/jsonschema#1392, #1521). Marking it unavailable makes jsonschema
# skip only its "iri" format check, which none of our schemas use.
sys.modules.setdefault("rfc3987_syntax", None)

from hwb_toolkit.errors import (  # noqa: E402
    ConfigError,
    HwbError,
    InputError,
    SchemaError,
    StoreError,
)

__all__ = ["HwbError", "InputError", "SchemaError", "ConfigError", "StoreError"]
__version__ = "0.1.0"

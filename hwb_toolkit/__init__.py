"""hwb_toolkit: a sense-making workbench for health and wellbeing partnerships.

Layers (each imports only from those below it):

- foundations: :mod:`.errors`, :mod:`.values`, :mod:`.schema`, :mod:`.resources`, :mod:`.markup`
- I/O: :mod:`.privacy`, :mod:`.io` (files), :mod:`.store` (the shared store)
- analysis: :mod:`.indicators`, :mod:`.voices`, :mod:`.system`
- the workspace: :mod:`.workspace` (opens strategy, files and the store once)
- presentation: :mod:`.text`, :mod:`.charts`
- orchestration: :mod:`.report` (the briefing, its pipeline and batch), :mod:`.cli`
- UI: :mod:`.apps`

ARCHITECTURE.md draws them; tests/test_architecture.py keeps the imports pointing down.
"""

import sys

# jsonschema (imported by altair, nbformat, Jupyter) loads the optional, unmaintained
# rfc3987-syntax package when installed, and that package compiles a parser grammar at
# import, in every kernel of every briefing: 1.0 s of one 4.6 s `hwb report` (23%,
# bench/bench_tricks.py; upstream: python-jsonschema/jsonschema#1392, #1521). Marking it
# unavailable makes jsonschema skip only its "iri" format check, which none of our schemas use.
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

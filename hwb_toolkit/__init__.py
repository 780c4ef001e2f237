"""hwb_toolkit: a sense-making workbench for health and wellbeing partnerships.

Layers (each imports only from those below it):

- I/O: :mod:`hwb_toolkit.io` (files), :mod:`hwb_toolkit.store` (the shared store)
- analysis: :mod:`hwb_toolkit.indicators`, :mod:`hwb_toolkit.voices`, :mod:`hwb_toolkit.system`
- presentation: :mod:`hwb_toolkit.charts`, :mod:`hwb_toolkit.narrative`
- orchestration: :mod:`hwb_toolkit.briefing`, :mod:`hwb_toolkit.pipeline`, :mod:`hwb_toolkit.cli`
- UI: :mod:`hwb_toolkit.apps`
"""

from hwb_toolkit.errors import ConfigError, HwbError, InputError, SchemaError, StoreError

__all__ = ["HwbError", "InputError", "SchemaError", "ConfigError", "StoreError"]
__version__ = "0.1.0"

"""The whole-system engine: the strategy, who is doing what, and where the gaps are.

- :func:`load_strategy` reads and validates ``strategy.yaml`` into a :class:`Strategy`
  (errors name the file, the line and the key path).
- :func:`read_actions`, :func:`validate_actions` and :func:`write_actions` handle the
  actions register (CSV/XLSX, canonical columns :data:`hwb_toolkit.schema.ACTION_COLUMNS`).
- :func:`coverage`, :func:`gaps`, :func:`connections` and :func:`loop_closure` are pure
  analyses over the strategy and DataFrames (:mod:`.analysis`: coverage and loop closure,
  and the conventions all four share; :mod:`.gap_rules`; :mod:`.partnerships`).
"""

from hwb_toolkit.system.actions import (
    ActionWarning,
    check_references,
    check_register,
    read_actions,
    validate_actions,
    write_actions,
)
from hwb_toolkit.system.analysis import LoopClosure, coverage, loop_closure, top_voted
from hwb_toolkit.system.gap_rules import gaps
from hwb_toolkit.system.partnerships import Connections, connections
from hwb_toolkit.system.strategy import (
    IndicatorSpec,
    Objective,
    Stakeholder,
    Strategy,
    Theme,
    load_strategy,
)

__all__ = [
    "load_strategy",
    "Strategy",
    "Objective",
    "Theme",
    "IndicatorSpec",
    "Stakeholder",
    "read_actions",
    "validate_actions",
    "write_actions",
    "check_references",
    "check_register",
    "ActionWarning",
    "coverage",
    "gaps",
    "connections",
    "loop_closure",
    "top_voted",
    "Connections",
    "LoopClosure",
]

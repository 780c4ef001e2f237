"""Partner pages: ipywidgets apps shown with Voila (layout and events only, no statistics).

- :mod:`hwb_toolkit.apps.common`: helpers every page uses (friendly errors, escaped text,
  layout, charts as SVG with text alternatives, where the workspace and reports are).
- :mod:`hwb_toolkit.apps.explorer`: the Explorer page (an area's indicators, voices, actions).
- :mod:`hwb_toolkit.apps.serve`: ``hwb serve``, Voila with the committed configuration.

The page notebooks in ``notebooks/`` are thin: a parameters cell, then one call into here.
"""

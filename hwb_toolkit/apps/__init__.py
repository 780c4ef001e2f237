"""Partner pages: ipywidgets apps shown with Voila (layout and events only, no statistics).

- :mod:`hwb_toolkit.apps.common`: helpers every page uses (friendly errors, escaped text,
  layout, charts as SVG with text alternatives, where the workspace and reports are).
- :mod:`hwb_toolkit.apps.explorer`: the Explorer page (an area's indicators, voices, actions).
- :mod:`hwb_toolkit.apps.workshop`: the facilitator's Workshop page (sessions, moderation).
- :mod:`hwb_toolkit.apps.session`: a live session's rules and summaries, for both kinds of page.
- :mod:`hwb_toolkit.apps.live`: the kernel-free pages participants use at a live event.
- :mod:`hwb_toolkit.apps.serve`: ``hwb serve``, Voila with the committed configuration, plus
  the live event pages on the same port.

The page notebooks in ``notebooks/`` are thin: a parameters cell, then one call into here.
"""

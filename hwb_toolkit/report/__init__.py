"""The monthly briefing: one area's briefing built from the workspace, its sections, its
``summary.json``, the page it becomes, and the Papermill pipeline and batch that publish it.

- :mod:`.build` builds a :class:`~.briefing.Briefing` (the model: every table the sections
  show) from an open :class:`~hwb_toolkit.workspace.Workspace`; :mod:`.shared` holds the
  tables a batch works out once for every area.
- :mod:`.numbers` counts every number the page and ``summary.json`` publish, once;
  :mod:`.sections` turns the briefing into the page's sections; :mod:`.summary` writes
  ``summary.json``.
- :mod:`.pipeline` runs the briefing notebook for one area with Papermill, :mod:`.batch`
  for every area, :mod:`.html` turns the executed notebook into one self-contained page
  and :mod:`.publish` swaps a finished report folder into place atomically.
"""

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
# Actions page: who is doing what, add or update an action, gaps and suggested
# conversations. Served by `hwb serve`; all logic is in hwb_toolkit.apps.actions.
import os

workspace: str = os.environ.get("HWB_WORKSPACE", "../workspace")  # the workspace folder

# %%
from hwb_toolkit.apps.actions import actions_page  # noqa: E402
from hwb_toolkit.apps.common import show_page  # noqa: E402

page = show_page(actions_page, workspace)

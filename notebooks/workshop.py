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
# Workshop page: post-its, dots and agree/disagree for a live event, shared through the
# workspace's store. Served by `hwb serve`; the facilitator opens
# workshop.ipynb?facilitator=<code> (the code: $HWB_FACILITATOR_CODE, else the
# workspace's .facilitator_code). All logic is in hwb_toolkit.apps.workshop.
import os

workspace: str = os.environ.get("HWB_WORKSPACE", "../workspace")  # the workspace folder
refresh_seconds: float = 2.0  # how often the page re-reads the store

# %%
from hwb_toolkit.apps.common import show_page  # noqa: E402
from hwb_toolkit.apps.workshop import workshop_page  # noqa: E402

page = show_page(workshop_page, workspace, refresh_seconds=refresh_seconds)

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
# Workshop page: the facilitator's desk for a live event (open, close and moderate sessions;
# the join screen and live wall for the projector). Served by `hwb serve`; the facilitator
# opens workshop.ipynb?facilitator=<code> (the code: $HWB_FACILITATOR_CODE, else the
# workspace's .facilitator_code). Participants join on the kernel-free live pages
# (/j and /workshop/<session>). All logic is in hwb_toolkit.apps.workshop.
import os

workspace: str = os.environ.get("HWB_WORKSPACE", "../workspace")  # the workspace folder
refresh_seconds: float = 2.0  # how often the page re-reads the store

# %%
from hwb_toolkit.apps.common import show_page  # noqa: E402
from hwb_toolkit.apps.workshop import workshop_page  # noqa: E402

page = show_page(workshop_page, workspace, refresh_seconds=refresh_seconds)

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
# Explorer page: an area's indicators, what partners said and what is being done.
# Served by `hwb serve`, which passes the workspace and the reports folder to the kernel
# as HWB_WORKSPACE and HWB_REPORTS. All logic is in hwb_toolkit.apps.explorer.
import os

workspace: str = os.environ.get("HWB_WORKSPACE", "../workspace")  # the workspace folder
reports: str = os.environ.get("HWB_REPORTS", "../reports")  # the pipeline's reports folder

# %%
from hwb_toolkit.apps.explorer import show_explorer  # noqa: E402 - after the parameters cell

page = show_explorer(workspace, reports)

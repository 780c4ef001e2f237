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

# %% [markdown]
# # Monthly briefing
#
# One area's briefing for one month: first what matters most, what partners
# said most strongly, what is being done and how the area compares; then what
# changed, each objective (its detail folded away), the poll, "you said, we did"
# and the data notes. Run it with Papermill (`hwb report`), which passes the
# parameters below; every step is a call into `hwb_toolkit`.

# %% tags=["parameters"]
workspace: str = "../workspace"  # workspace folder (strategy.yaml, indicators/, voices/, actions.csv)
area_code: str = "E08000021"  # ONS code of the area the briefing is for
period: str = "2026-11"  # reporting month, YYYY-MM
output_dir: str = "."  # folder where summary.json is written
prepared: str = ""  # folder of tables shared by a batch; empty means compute them from the workspace
previous_summary: str = ""  # last month's summary.json for this area; empty when there is none
suppress_below: int = 5  # counts from 1 to suppress_below - 1 are hidden in anything published

# %%
from hwb_toolkit.charts.render import start_process as start_drawing_process  # noqa: E402

start_drawing_process()  # charts are drawn in a second process, which warms up while the toolkit loads
from hwb_toolkit.report.build import build_briefing  # noqa: E402 - after the start above
from hwb_toolkit.report.sections import show  # noqa: E402
from hwb_toolkit.report.summary import write_summary  # noqa: E402

briefing = build_briefing(
    workspace,
    area_code,
    period,
    prepared=prepared or None,
    previous_summary=previous_summary or None,
    suppress_below=suppress_below,
    charts_in_child_process=True,
)
show(briefing, "title")

# %%
show(briefing, "headline")

# %%
show(briefing, "said")

# %%
show(briefing, "done")

# %%
show(briefing, "glance")

# %%
show(briefing, "changes")

# %%
for objective in briefing.objectives:
    show(briefing, "objective", objective=objective)

# %%
show(briefing, "consensus")

# %%
show(briefing, "loop")

# %%
show(briefing, "conversations")

# %%
show(briefing, "data_notes")

# %%
write_summary(briefing, output_dir)

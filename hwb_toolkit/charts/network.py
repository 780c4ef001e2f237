"""The network of organisations that share actions: a deterministic layout and its chart."""

from __future__ import annotations

import textwrap

import altair as alt
import numpy as np
import pandas as pd

from hwb_toolkit.charts.base import (
    _finish,
    _is_empty,
    _no_data,
    _numeric,
    _records,
    _sector_legend,
    _sector_scale,
)
from hwb_toolkit.charts.style import _TEXT, DEFAULT_WIDTH, _join, _plural, _sector_label, _shorten
from hwb_toolkit.errors import InputError
from hwb_toolkit.values import require_columns

# Text is wrapped and shortened here (``_wrap``, ``_shorten``) rather than with Vega's
# ``limit``: vl-convert measures text glyph by glyph, and a limit measures each line again.
_NODE_LABEL_CHARS = 19  # a network label: about 95 px at 9 px (average glyph 0.55 em)


def network_layout(
    nodes: pd.DataFrame,
    edges: pd.DataFrame | None = None,
    *,
    iterations: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """A deterministic force-directed layout (Fruchterman-Reingold, numpy only).

    ``nodes``: ``organisation`` (optional ``sector``, used to order the starting
    circle so sectors start together). ``edges``: ``org_a``, ``org_b``, optional
    ``shared_actions`` (link strength, default 1). Nodes start on a circle in
    (sector, name) order with a small jitter from ``seed``; linked organisations
    attract (more strongly the more actions they share), all repel, a weak pull to
    the centre keeps separate groups on the page. Same input, same picture.

    Returns ``organisation``, ``x``, ``y`` with both in 0.05-0.95 (aspect kept).
    """
    if _is_empty(nodes):
        return pd.DataFrame(columns=["organisation", "x", "y"])
    require_columns(nodes, ["organisation"], table="organisations")
    frame = pd.DataFrame({"organisation": nodes["organisation"].astype(str).to_numpy()})
    frame["sector"] = nodes["sector"].astype(str).to_numpy() if "sector" in nodes.columns else ""
    frame = frame.drop_duplicates("organisation").sort_values(["sector", "organisation"])
    names = frame["organisation"].tolist()
    n = len(names)
    if n == 1:
        return pd.DataFrame({"organisation": names, "x": [0.5], "y": [0.5]})
    index = {name: i for i, name in enumerate(names)}
    weights = np.zeros((n, n))
    if not _is_empty(edges):
        a = edges["org_a"].astype(str).map(index)
        b = edges["org_b"].astype(str).map(index)
        strength = (
            _numeric(edges, "shared_actions", "links").fillna(1.0).to_numpy()
            if "shared_actions" in edges.columns
            else np.ones(len(edges))
        )
        known = (a.notna() & b.notna()).to_numpy()
        ia, ib = a[known].astype(int).to_numpy(), b[known].astype(int).to_numpy()
        np.add.at(weights, (ia, ib), np.log1p(strength[known]))
        np.add.at(weights, (ib, ia), np.log1p(strength[known]))
        np.fill_diagonal(weights, 0.0)
        if weights.max() > 0:
            weights /= weights.max()
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * np.arange(n) / n
    pos = 0.5 * np.column_stack([np.cos(angle), np.sin(angle)]) + rng.uniform(-0.01, 0.01, (n, 2))
    k = 1.0 / np.sqrt(n)
    temperature = np.linspace(0.1, 0.001, iterations)
    for step in temperature:
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.maximum(np.sqrt((delta**2).sum(-1)), 1e-3)
        force = k * k / distance**2 - weights * distance / k  # repulsion minus attraction
        np.fill_diagonal(force, 0.0)
        move = (force[:, :, None] * delta).sum(1) - 0.5 * pos / k
        length = np.maximum(np.sqrt((move**2).sum(-1)), 1e-12)
        pos += move / length[:, None] * np.minimum(length, step)[:, None]
    pos -= pos.min(0)
    span = pos.max()
    pos = 0.05 + 0.9 * pos / span if span > 0 else np.full_like(pos, 0.5)
    pos += (0.9 - (pos.max(0) - 0.05)) / 2  # centre the shorter side
    out = pd.DataFrame({"organisation": names, "x": pos[:, 0], "y": pos[:, 1]})
    return out.sort_values("organisation", kind="stable").reset_index(drop=True)


def network_chart(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    title: str = "Who works with whom",
    width: int = DEFAULT_WIDTH,
    seed: int = 0,
) -> alt.LayerChart | alt.Chart:
    """Organisations as circles (size: their actions, colour: sector) linked by shared actions.

    ``nodes``: ``organisation``, ``sector``, ``n_actions``. ``edges``: ``org_a``,
    ``org_b``, ``shared_actions``; both ends must be in ``nodes``. Layout:
    :func:`network_layout` (deterministic).
    """
    if _is_empty(nodes):
        return _no_data(title, "Network of organisations", width)
    require_columns(nodes, ["organisation", "sector", "n_actions"], table="organisations")
    edges = (
        edges if edges is not None else pd.DataFrame(columns=["org_a", "org_b", "shared_actions"])
    )
    if len(edges):
        require_columns(edges, ["org_a", "org_b", "shared_actions"], table="links")
    known = set(nodes["organisation"].astype(str))
    for column in ("org_a", "org_b"):
        unknown = ~edges[column].astype(str).isin(known)
        if unknown.any():
            position = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(
                f"organisation {edges[column].iloc[position]!r} is linked but not listed "
                "among the organisations",
                row=position + 2,
                column=column,
            )
    layout = network_layout(nodes, edges, seed=seed)
    spots = layout.set_index("organisation")
    node_data = nodes.assign(organisation=nodes["organisation"].astype(str)).drop_duplicates(
        "organisation"
    )
    node_data = pd.DataFrame(
        {
            "organisation": node_data["organisation"].to_numpy(),
            "sector": _sector_label(node_data["sector"]).to_numpy(),
            "n_actions": _numeric(node_data, "n_actions", "organisations").to_numpy(),
        }
    ).join(spots, on="organisation")
    link = pd.DataFrame(
        {
            "org_a": edges["org_a"].astype(str).to_numpy(),
            "org_b": edges["org_b"].astype(str).to_numpy(),
            "shared": (
                _numeric(edges, "shared_actions", "links").to_numpy()
                if len(edges)
                else np.array([], dtype=float)
            ),
        }
    )
    link = link.join(spots, on="org_a").join(
        spots.rename(columns={"x": "x2", "y": "y2"}), on="org_b"
    )
    unit = alt.Scale(domain=[0, 1], nice=False, zero=False)
    blank = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    x = alt.X("x:Q", scale=unit, axis=blank)
    y = alt.Y("y:Q", scale=unit, axis=blank)
    layers = []
    if len(link):
        layers.append(
            alt.Chart(_records(link))
            .mark_rule(color="#999999", opacity=0.8)
            .encode(
                x=x,
                y=y,
                x2=alt.X2("x2:Q"),
                y2=alt.Y2("y2:Q"),
                strokeWidth=alt.StrokeWidth(
                    "shared:Q", scale=alt.Scale(range=[0.8, 4]), legend=None
                ),
                tooltip=[
                    alt.Tooltip("org_a:N", title="Organisation"),
                    alt.Tooltip("org_b:N", title="Works with"),
                    alt.Tooltip("shared:Q", title="Shared actions"),
                ],
            )
        )
    layers.append(
        alt.Chart(_records(node_data))
        .mark_circle(opacity=1, stroke="white", strokeWidth=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "sector:N", scale=_sector_scale(node_data["sector"]), legend=_sector_legend()
            ),
            size=alt.Size("n_actions:Q", scale=alt.Scale(range=[40, 400]), legend=None),
            tooltip=[
                alt.Tooltip("organisation:N", title="Organisation"),
                alt.Tooltip("sector:N", title="Sector"),
                alt.Tooltip("n_actions:Q", title="Actions"),
            ],
        )
    )
    # Shortened here, not with Vega's ``limit`` (see _NODE_LABEL_CHARS): truncating in Vega
    # measured each long name about eight times, 0.2 s for this chart.
    labels = node_data.assign(label=_node_labels(node_data, width, int(width * 0.85)))
    labels = labels[labels["label"] != ""]
    layers.append(
        alt.Chart(_records(labels[["x", "y", "label"]]))
        .mark_text(dy=13, baseline="top", fontSize=9, lineBreak="\n", color=_TEXT)
        .encode(x=x, y=y, text=alt.Text("label:N"))
    )
    pairs = link[link["org_a"] != link["org_b"]]
    partners = pd.concat(
        [pairs[["org_a", "org_b"]], pairs[["org_b", "org_a"]].set_axis(["org_a", "org_b"], axis=1)]
    )
    degree = (
        partners.drop_duplicates()
        .groupby("org_a")
        .size()
        .sort_values(ascending=False, kind="stable")
    )
    degree = degree.reindex(sorted(degree.index, key=lambda o: (-degree[o], o)))
    description = (
        f"Network of {_plural(len(node_data), 'organisation')} and "
        f"{_plural(len(pairs), 'link')} between organisations that share actions."
    )
    if len(degree):
        description += (
            " Most connected: "
            + ", ".join(
                f"{org} ({_plural(int(d), 'partner')})" for org, d in degree.head(3).items()
            )
            + "."
        )
    alone = sorted(set(node_data["organisation"]) - set(degree.index))
    if alone:
        description += f" Working alone: {_join(alone[:5])}" + (
            f" and {len(alone) - 5} more." if len(alone) > 5 else "."
        )
    return _finish(
        alt.layer(*layers),
        title=title,
        description=description,
        width=width,
        height=int(width * 0.85),
        caption=(
            "Each circle is an organisation, sized by how many actions it leads or joins and "
            "coloured by sector; a line joins two organisations that share an action, thicker "
            "for more. Where two names would overlap, the organisation with more actions is named."
        ),
    )


def _node_labels(nodes: pd.DataFrame, width: int, height: int) -> list[str]:
    """Each node's label (:func:`_node_label`), or "" where it would overlap a label already
    placed: nodes with more actions are named first, so crowded names never sit on top of
    each other (as drawn: 9 px text about 5 px a character, lines 11 px, 13 px under the dot)."""
    order = sorted(range(len(nodes)), key=lambda i: (-float(nodes["n_actions"].iat[i]),
                                                    str(nodes["organisation"].iat[i])))
    placed: list[tuple[float, float, float, float]] = []
    labels = [""] * len(nodes)
    for i in order:
        text = _node_label(nodes["organisation"].iat[i])
        lines = text.split("\n")
        half = max(len(line) for line in lines) * 5.0 / 2
        x = float(nodes["x"].iat[i]) * width
        y = (1 - float(nodes["y"].iat[i])) * height + 13
        box = (x - half, y, x + half, y + 11.0 * len(lines))
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(box)
        labels[i] = text
    return labels


def _node_label(name: str) -> str:
    """An organisation's name on up to two lines of about 19 characters (the second
    shortened with "…" only when the name is longer than both)."""
    lines = textwrap.wrap(" ".join(str(name).split()), _NODE_LABEL_CHARS) or [""]
    if len(lines) > 2:
        lines = [lines[0], _shorten(" ".join(lines[1:]), _NODE_LABEL_CHARS)]
    return "\n".join(lines)

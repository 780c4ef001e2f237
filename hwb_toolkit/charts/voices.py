"""Charts of what partners said and how they voted: themes by sector, and the opinion map."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from hwb_toolkit.charts.base import (
    _finish,
    _is_empty,
    _legend,
    _no_data,
    _numeric,
    _records,
    _row_bars,
    _sector_legend,
    _sector_scale,
)
from hwb_toolkit.charts.style import (
    _GROUP_COLOURS,
    _GROUP_SHAPES,
    _TEXT,
    _UNGROUPED,
    _WITHHELD_SECTOR,
    DEFAULT_WIDTH,
    SECTOR_COLOURS,
    _count,
    _join,
    _missing_note,
    _plural,
    _sector_label,
    _shorten,
)
from hwb_toolkit.schema import SECTORS
from hwb_toolkit.values import is_missing, require_columns


def theme_chart(
    themes: pd.DataFrame,
    *,
    title: str = "What people talked about",
    x_title: str = "Number of contributions",
    width: int = DEFAULT_WIDTH,
    caption: str | None = None,
) -> alt.LayerChart | alt.Chart:
    """Themes by size, each bar split by the sectors the contributions came from.

    ``themes``: ``theme``, ``label``, ``size`` (contributions in the theme), and the
    split by sector either as a ``sectors`` column of dicts (sector -> count) or
    as one column per sector named as :data:`hwb_toolkit.schema.SECTORS`. Without
    either, plain bars. Contributions whose sector is unknown (size minus the
    sector counts, or a sector "unknown") show as "Not recorded". Sector counts given
    as text (withheld: "fewer than 5", "not shown") are drawn together as one grey
    segment, "Small numbers, not shown", so every bar runs to its total. Largest
    theme first.
    """
    if _is_empty(themes):
        return _no_data(title, "Themes", width)
    what = "themes"
    require_columns(themes, ["theme", "label", "size"], table=what)
    # A few themes: plain Python rows, which cost less here than pandas' operations.
    ids = themes["theme"].astype(str).tolist()
    unsorted_sizes = _numeric(themes, "size", what).tolist()
    unsorted_labels = [
        theme if is_missing(label) else str(label)
        for theme, label in zip(ids, themes["label"].tolist(), strict=True)
    ]
    # Largest first, then by label; themes without a size last.
    order = sorted(
        range(len(ids)),
        key=lambda i: (
            math.isnan(unsorted_sizes[i]),
            0.0 if math.isnan(unsorted_sizes[i]) else -unsorted_sizes[i],
            unsorted_labels[i],
        ),
    )
    sizes = [unsorted_sizes[i] for i in order]
    labels = [unsorted_labels[i] for i in order]
    has_sectors = "sectors" in themes.columns or any(s in themes.columns for s in SECTORS)
    if has_sectors:
        # (row, sector, count) for each theme's split by sector, rows in size order.
        if "sectors" in themes.columns:
            split = themes["sectors"].tolist()
            entries = [
                (row, sector, count)
                for row, i in enumerate(order)
                if isinstance(split[i], Mapping)
                for sector, count in split[i].items()
            ]
        else:
            entries = [
                (row, sector, column[i])
                for sector, column in (
                    (sector, themes[sector].tolist()) for sector in SECTORS if sector in themes
                )
                for row, i in enumerate(order)
            ]
        counts = pd.to_numeric(pd.Series([c for *_, c in entries], dtype=object), errors="coerce")
        entries = [
            (row, sector, count)
            for (row, sector, _), count in zip(entries, counts.astype(float).tolist(), strict=True)
        ]
        suppressed = sum(math.isnan(count) for *_, count in entries)
        recorded = [0.0] * len(order)
        withheld = [False] * len(order)
        for row, _, count in entries:
            if math.isnan(count):
                withheld[row] = True
            else:
                recorded[row] += count
        # A withheld (NaN) sector count must not reappear inside "Not recorded": what the
        # shown counts leave of a bar's total is drawn as one "not shown" segment instead.
        rest = [
            math.nan if withheld[row] else size - recorded[row] for row, size in enumerate(sizes)
        ]
        entries += [(row, "", count) for row, count in enumerate(rest) if not count <= 0]
        entries = [(row, sector, count) for row, sector, count in entries if not math.isnan(count)]
        entries += [
            (row, _WITHHELD_SECTOR, size - recorded[row])
            for row, size in enumerate(sizes)
            if withheld[row] and not math.isnan(size) and size - recorded[row] > 0
        ]
        sector_names = _sector_label(pd.Series(
            ["" if sector == "unknown" else sector for _, sector, _ in entries], dtype=object
        ))
        entries = [
            (row, sector, count)
            for (row, _, count), sector in zip(entries, sector_names.tolist(), strict=True)
        ]
    else:
        entries = [(row, "All contributions", size) for row, size in enumerate(sizes)]
        suppressed = 0  # a missing size is reported as a missing theme below
    entries = [entry for entry in entries if entry[2] > 0]  # NaN is not > 0
    sector_order = {s: i for i, s in enumerate(SECTOR_COLOURS)}
    ranks = [sector_order.get(sector) for _, sector, _ in entries]
    if None in ranks:  # as pandas would give them: whole numbers as floats
        ranks = [float(len(sector_order) if rank is None else rank) for rank in ranks]
    ranked = sorted(
        zip(entries, ranks, strict=True), key=lambda pair: (pair[0][0], pair[1], pair[0][1])
    )
    segments, ends = [], {}
    for (row, sector, count), rank in ranked:
        end = ends.get(row, 0.0) + count
        ends[row] = end
        segments.append((row, sector, count, rank, end, end - count, labels[row]))
    long = pd.DataFrame(
        segments, columns=["row", "sector", "count", "rank", "end", "start", "label"]
    )
    # A hidden total ("fewer than 5", given as published_size) is written at the start of its
    # empty row rather than left out, so the row does not read as nobody.
    published = (
        [themes["published_size"].tolist()[i] for i in order]
        if "published_size" in themes.columns else [None] * len(sizes)
    )
    totals = pd.DataFrame({
        "row": range(len(sizes)),
        "end": [0.0 if math.isnan(size) and isinstance(text, str) else size
                for size, text in zip(sizes, published, strict=True)],
        "text": [text if math.isnan(size) and isinstance(text, str) else _count(size)
                 for size, text in zip(sizes, published, strict=True)],
    })
    colour = alt.Color(
        "sector:N",
        scale=_sector_scale(long["sector"].tolist()),
        legend=_sector_legend() if has_sectors else None,
        title="Sector",
    )
    tooltip = [
        alt.Tooltip("label:N", title="Theme"),
        alt.Tooltip("sector:N", title="Sector"),
        alt.Tooltip("count:Q", title="Contributions", format=",.0f"),
    ]
    layers, *_, height = _row_bars(
        labels,
        long,
        totals,
        colour=colour,
        tooltip=tooltip,
        x_title=x_title,
        width=width,
    )
    top = [(label, size) for label, size in zip(labels, sizes, strict=True) if not math.isnan(size)][:3]
    description = (
        f"Themes: {_plural(len(labels), 'theme')}, largest first. "
        + "; ".join(f"{label}: {_count(size)}" for label, size in top)
        + ("." if top else "")
    )
    if has_sectors:
        by_sector: dict[str, float] = {}
        for _, sector, count, *_ in sorted(segments, key=lambda segment: segment[1]):
            by_sector[sector] = by_sector.get(sector, 0.0) + count
        description += (
            (" By sector, counts shown (withheld ones left out): " if suppressed else " By sector overall: ")
            + ", ".join(
                f"{sector} {_count(count)}"
                for sector, count in sorted(by_sector.items(), key=lambda pair: -pair[1])
            )
            + "."
        )
    description += _missing_note(sum(math.isnan(size) for size in sizes), "theme")
    if suppressed:
        description += (
            f" {_plural(suppressed, 'sector count')} suppressed (small numbers), drawn together "
            "as small numbers, not shown."
        )
    if caption is None:
        caption = (
            "Contributions on each theme, largest first"
            + (", coloured by the sector they came from; small counts are drawn together in grey, "
               "not by sector." if has_sectors else ".")
        )
    return _finish(
        alt.layer(*layers),
        title=title,
        description=description,
        width=width,
        height=int(np.ceil(height)),
        caption=caption,
    )


def _group_names(groups: pd.Series) -> pd.Series:
    """Polis names groups by letter: group 0 is "Group A"."""

    def name(group) -> str:
        if group is None or (isinstance(group, float) and np.isnan(group)) or group is pd.NA:
            return _UNGROUPED
        try:
            number = int(group)
        except (TypeError, ValueError):
            return f"Group {group}"
        return (
            f"Group {chr(65 + number)}"
            if 0 <= number < 26 and number == group
            else f"Group {group}"
        )

    return groups.astype(object).map(name)


def opinion_map(
    coordinates: pd.DataFrame,
    groups: pd.Series | Mapping | pd.DataFrame | None = None,
    consensus_items: Sequence[str] | pd.DataFrame | None = None,
    *,
    title: str = "How people's views group together",
    width: int = DEFAULT_WIDTH,
) -> alt.LayerChart | alt.Chart:
    """The opinion-group map: each participant a dot, people who voted alike close together.

    ``coordinates``: ``participant``, ``x``, ``y`` (as ``OpinionGroups.coordinates``).
    ``groups``: participant -> group id (a Series or mapping, or a DataFrame with
    ``participant`` and ``group``; default: a ``group`` column in ``coordinates``);
    group ids 0, 1, ... are named "Group A", "Group B" as Polis does; people in no
    group are "Not grouped". ``consensus_items``: statements most people agree on
    (texts, or a DataFrame with ``label`` and optional ``direction`` "agree" /
    "disagree"), listed under the title. The axes have no units and are not drawn.
    """
    if _is_empty(coordinates):
        return _no_data(title, "Opinion groups", width)
    what = "coordinates"
    require_columns(coordinates, ["participant", "x", "y"], table=what)
    data = pd.DataFrame(
        {
            "participant": coordinates["participant"].astype(str).to_numpy(),
            "x": _numeric(coordinates, "x", what).to_numpy(),
            "y": _numeric(coordinates, "y", what).to_numpy(),
        }
    )
    if groups is None:
        membership = (
            coordinates["group"]
            if "group" in coordinates.columns
            else pd.Series(np.nan, index=coordinates.index)
        )
        membership = pd.Series(membership.to_numpy(), index=data["participant"])
    elif isinstance(groups, pd.DataFrame):
        require_columns(groups, ["participant", "group"], table="groups")
        membership = pd.Series(groups["group"].to_numpy(), index=groups["participant"].astype(str))
    else:
        membership = pd.Series(groups)
        membership.index = membership.index.astype(str)
    membership = membership[~membership.index.duplicated()]
    data["group"] = _group_names(membership.reindex(data["participant"]).reset_index(drop=True))
    shown = data.dropna(subset=["x", "y"])
    names = sorted(set(shown["group"]) - {_UNGROUPED})
    domain = names + ([_UNGROUPED] if _UNGROUPED in set(shown["group"]) else [])
    colours = [_GROUP_COLOURS[i % len(_GROUP_COLOURS)] for i in range(len(names))] + (
        ["#BBBBBB"] if _UNGROUPED in domain else []
    )
    shapes = [_GROUP_SHAPES[i % len(_GROUP_SHAPES)] for i in range(len(names))] + (
        ["circle"] if _UNGROUPED in domain else []
    )
    blank = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    x = alt.X("x:Q", axis=blank, scale=alt.Scale(zero=False, padding=14))
    y = alt.Y("y:Q", axis=blank, scale=alt.Scale(zero=False, padding=14))
    sizes = shown.groupby("group").size()
    points = (
        alt.Chart(_records(shown))
        .mark_point(filled=True, size=55, opacity=0.75)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "group:N",
                scale=alt.Scale(domain=domain, range=colours),
                legend=_legend(
                    "Opinion group", orient="bottom", direction="horizontal", columns=3
                ),
            ),
            shape=alt.Shape(
                "group:N",
                scale=alt.Scale(domain=domain, range=shapes),
                legend=_legend(
                    "Opinion group", orient="bottom", direction="horizontal", columns=3
                ),
            ),
            tooltip=[alt.Tooltip("group:N", title="Opinion group")],
        )
    )
    centres = shown[shown["group"] != _UNGROUPED].groupby("group")[["x", "y"]].mean().reset_index()
    centres["text"] = [f"{g.replace('Group ', '')} ({sizes[g]})" for g in centres["group"]]
    halo = (
        alt.Chart(_records(centres))
        .mark_text(fontSize=13, fontWeight="bold", stroke="white", strokeWidth=4)
        .encode(x=x, y=y, text=alt.Text("text:N"))
    )
    label = (
        alt.Chart(_records(centres))
        .mark_text(fontSize=13, fontWeight="bold", color=_TEXT)
        .encode(x=x, y=y, text=alt.Text("text:N"))
    )

    statements: list[tuple[str, str]] = []
    if consensus_items is not None and len(consensus_items):
        if isinstance(consensus_items, pd.DataFrame):
            require_columns(consensus_items, ["label"], table="consensus")
            direction = (
                consensus_items["direction"].astype(str).str.lower()
                if "direction" in consensus_items.columns
                else pd.Series("agree", index=consensus_items.index)
            )
            statements = list(zip(direction, consensus_items["label"].astype(str), strict=True))
        else:
            statements = [("agree", str(text)) for text in consensus_items]
    subtitle = [
        ("Most disagree: " if d == "disagree" else "Most agree: ") + f"“{_shorten(text, 140)}”"
        for d, text in statements
    ]
    group_text = _join(
        [f"{name} ({_plural(int(sizes[name]), 'person', 'people')})" for name in names]
    )
    description = (
        f"Opinion map of {_plural(len(data), 'participant')} in "
        f"{_plural(len(names), 'opinion group')}"
        + (f": {group_text}" if names else "")
        + ". Position has no units: people who voted alike are close together."
    )
    ungrouped = int((shown["group"] == _UNGROUPED).sum())
    if ungrouped:
        description += f" {_plural(ungrouped, 'person', 'people')} not in a group (too few votes)."
    if statements:
        description += (
            " Common ground: "
            + "; ".join(
                ("most disagree: " if d == "disagree" else "most agree: ") + f"“{text}”"
                for d, text in statements
            )
            + "."
        )
    description += _missing_note(len(data) - len(shown), "participant")
    return _finish(
        alt.layer(points, halo, label),
        title=title,
        description=description,
        width=width,
        height=int(width * 0.75),
        subtitle=subtitle or None,
        caption=(
            "Each dot is one person who voted, placed so that people who voted alike sit close "
            "together; colour and shape show the opinion group the votes put them in. The axes "
            "have no units."
        ),
    )

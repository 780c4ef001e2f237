"""The Fingertips-style spine chart: one area's figures against England and the range of areas."""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd

from hwb_toolkit.charts.base import (
    _HIDDEN,
    _comparison_encodings,
    _comparisons,
    _finish,
    _is_empty,
    _no_data,
    _numeric,
    _records,
    _row_layout,
    _row_y,
)
from hwb_toolkit.charts.style import (
    _BAND_INNER,
    _BAND_OUTER,
    _BENCHMARK,
    _TEXT,
    DEFAULT_WIDTH,
    _comparison_counts,
    _fmt,
    _missing_note,
    _plural,
)
from hwb_toolkit.errors import InputError
from hwb_toolkit.schema import ENGLAND_CODE, POLARITIES
from hwb_toolkit.values import require_columns


def _group_keys(*frames: pd.DataFrame) -> list[str]:
    """indicator_id plus sex and age where every frame has them (summaries are per sex/age)."""
    return ["indicator_id"] + [
        c for c in ("sex", "age") if all(c in frame.columns for frame in frames)
    ]


def spine_distribution(
    all_area_latest: pd.DataFrame,
    *,
    england_code: str = ENGLAND_CODE,
    area_type: str | None = None,
) -> pd.DataFrame:
    """The spread of areas that a spine chart draws each indicator against.

    ``all_area_latest``: canonical indicator rows for one period per indicator,
    one row per area (columns ``indicator_id``, ``area_code``, ``value``; optional
    ``polarity``, ``sex``, ``age``, ``period``, ``area_type``, ``category_type``).
    The England row (``england_code``) gives ``england_value`` and is left out of
    the spread; category rows (a non-empty ``category_type``) are left out; with
    ``area_type`` only that area type is used (compare like with like, as
    Fingertips does). Values stay on the indicator's published scale.

    Returns one row per indicator (and sex/age where present): ``indicator_id``,
    ``england_value``, ``min``, ``q25``, ``q75``, ``max``, ``n_areas`` (areas with
    a value) and ``polarity`` when given. Quartiles are interpolated linearly
    (numpy's default, R's type 7, as PHE's fingertipscharts computes them).
    Raises :class:`InputError` when an indicator has several periods or an area
    appears twice for one indicator.
    """
    columns = ["indicator_id", "england_value", "min", "q25", "q75", "max", "n_areas"]
    if _is_empty(all_area_latest):
        return pd.DataFrame(columns=columns)
    what = "area values"
    require_columns(all_area_latest, ["indicator_id", "area_code", "value"], table=what)
    data = all_area_latest.copy()
    data["value"] = _numeric(data, "value", what)
    if "category_type" in data.columns:
        category = data["category_type"].astype(object)
        data = data[category.isna() | (category.astype(str).str.strip() == "")]
    is_england = data["area_code"].astype(str) == england_code
    if area_type is not None and "area_type" in data.columns:
        data = data[is_england | (data["area_type"].astype(str) == area_type)]
        is_england = data["area_code"].astype(str) == england_code
    keys = _group_keys(data)
    if "period" in data.columns:
        periods = data.groupby(keys, dropna=False)["period"].nunique()
        if (periods > 1).any():
            which = periods[periods > 1].index[0]
            raise InputError(
                f"indicator {which} has values for several periods; keep one period per "
                "indicator before drawing a spine chart",
                column="period",
            )
    areas = data[~is_england]
    repeated = areas.duplicated(keys + ["area_code"])
    if repeated.any():
        position = int(np.flatnonzero(repeated.to_numpy())[0])
        row = all_area_latest.index.get_loc(areas.index[position])
        raise InputError(
            f"area {areas['area_code'].iloc[position]} appears more than once for indicator "
            f"{areas['indicator_id'].iloc[position]}",
            row=int(row) + 2,
            column="area_code",
        )
    grouped = areas.dropna(subset=["value"]).groupby(keys, dropna=False)["value"]
    spread = grouped.quantile([0.0, 0.25, 0.75, 1.0]).unstack()
    spread.columns = ["min", "q25", "q75", "max"]
    spread["n_areas"] = grouped.size()
    england = data[is_england].groupby(keys, dropna=False)["value"].first().rename("england_value")
    every = data.groupby(keys, dropna=False).size().index
    out = pd.DataFrame(index=every).join(england).join(spread)
    out["n_areas"] = out["n_areas"].fillna(0).astype(int)
    if "polarity" in data.columns:
        out = out.join(data.groupby(keys, dropna=False)["polarity"].first())
        columns = columns + ["polarity"]
    out = out.reset_index()
    return out[keys[1:] + columns] if len(keys) > 1 else out[columns]


def _unique_labels(frame: pd.DataFrame) -> pd.Series:
    """Row labels for people: the display name when given (it says whom a row is about),
    else the indicator name, with sex/age (then id) only when needed."""
    if "display_name" in frame.columns:
        names = frame["display_name"].astype(object)
        fallback = frame["indicator_name"] if "indicator_name" in frame.columns else None
        if fallback is not None:
            names = names.where(names.notna(), fallback)
        frame = frame.assign(indicator_name=names)
    if "indicator_name" in frame.columns:
        names = frame["indicator_name"].astype(object)
        names = names.where(names.notna(), "Indicator " + frame["indicator_id"].astype(str))
    else:
        names = "Indicator " + frame["indicator_id"].astype(str)
    names = names.astype(str)
    if names.duplicated(keep=False).any():
        extra = [c for c in ("sex", "age") if c in frame.columns]
        if extra:
            detail = frame[extra].astype(str).agg(", ".join, axis=1)
            names = names.where(~names.duplicated(keep=False), names + " (" + detail + ")")
    if names.duplicated(keep=False).any():
        names = names.where(
            ~names.duplicated(keep=False), names + " [" + frame["indicator_id"].astype(str) + "]"
        )
    return names


def spine_positions(summary: pd.DataFrame, distribution: pd.DataFrame) -> pd.DataFrame:
    """Where each part of a spine chart goes, on a 0-1 axis with England at 0.5.

    Fingertips' spine layout: the axis is centred on the England value and its half
    width is the larger distance from England to the lowest or highest area, so the
    chart is symmetric about England. For ``low_is_good`` indicators the axis is
    flipped so that better is always to the right; ``high_is_good`` and
    ``no_judgement`` indicators run from lowest (left) to highest (right).

    ``summary``: the indicator summary (``indicator_id``, ``value``; optional
    ``indicator_name``, ``compared_to_england``, ``polarity``, ``england_value``,
    ``sex``, ``age``). ``distribution``: :func:`spine_distribution`'s table
    (``indicator_id``, ``min``, ``q25``, ``q75``, ``max``; optional
    ``england_value``, ``polarity``). The distribution's England value is used,
    else the summary's; the summary's polarity, else the distribution's, else
    "no_judgement".

    Returns one row per summary row: ``indicator_id``, ``label``, ``polarity``,
    ``comparison``, ``value``, ``england_value``, the ends of the spine in the
    indicator's units (``left_end``, ``left_quartile``, ``right_quartile``,
    ``right_end``; for ``low_is_good`` left_end is the highest value) and their
    positions ``x_left_end``, ``x_left_quartile``, ``x_right_quartile``,
    ``x_right_end``, ``x_area`` (the area's marker, clipped to 0-1), ``x_england``
    (0.5), and ``has_spine`` (False when England's value or the spread is missing:
    then every position is NaN).
    """
    what = "indicator summary"
    require_columns(summary, ["indicator_id", "value"], table=what)
    if _is_empty(distribution):  # nothing to draw against: every row says so
        distribution = pd.DataFrame(
            {"indicator_id": summary["indicator_id"].drop_duplicates()}
        ).assign(min=np.nan, q25=np.nan, q75=np.nan, max=np.nan)
    require_columns(distribution, ["indicator_id", "min", "q25", "q75", "max"], table="spine distribution")
    keys = _group_keys(summary, distribution)
    wanted = (
        keys
        + ["min", "q25", "q75", "max"]
        + [c for c in ("england_value", "polarity") if c in distribution.columns]
    )
    spread = distribution[wanted].rename(
        columns={"england_value": "_dist_england", "polarity": "_dist_polarity"}
    )
    try:
        merged = summary.reset_index(drop=True).merge(
            spread, on=keys, how="left", validate="many_to_one"
        )
    except pd.errors.MergeError as error:
        raise InputError(
            "the spine distribution has more than one row for an indicator", column="indicator_id"
        ) from error

    value = _numeric(merged, "value", what)
    england = (
        _numeric(merged, "_dist_england", "spine distribution")
        if "_dist_england" in merged.columns
        else pd.Series(np.nan, index=merged.index)
    )
    if "england_value" in merged.columns:
        england = england.fillna(_numeric(merged, "england_value", what))
    polarity = pd.Series(pd.NA, index=merged.index, dtype=object)
    for column in ("polarity", "_dist_polarity"):
        if column in merged.columns:
            polarity = polarity.fillna(merged[column].astype(object))
    polarity = polarity.fillna("no_judgement").astype(str).str.strip()
    bad = ~polarity.isin(POLARITIES)
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"polarity {polarity.iloc[position]!r} is not one of {', '.join(POLARITIES)}",
            row=position + 2,
            column="polarity",
        )

    low, q25, q75, high = (
        _numeric(merged, c, "spine distribution").to_numpy() for c in ("min", "q25", "q75", "max")
    )
    centre = england.to_numpy()
    flipped = (polarity == "low_is_good").to_numpy()
    sign = np.where(flipped, -1.0, 1.0)
    half = np.fmax(np.abs(centre - low), np.abs(high - centre))
    has_spine = np.isfinite(centre) & np.isfinite(low) & np.isfinite(high)

    def position(values: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(half > 0, 0.5 + sign * (values - centre) / (2 * half), 0.5)
        return np.where(has_spine, x, np.nan)

    out = pd.DataFrame(
        {
            "indicator_id": merged["indicator_id"],
            "label": _unique_labels(merged),
            "polarity": polarity,
            "comparison": _comparisons(merged, "compared_to_england", what),
            "value": value,
            "england_value": england,
            "left_end": np.where(flipped, high, low),
            "left_quartile": np.where(flipped, q75, q25),
            "right_quartile": np.where(flipped, q25, q75),
            "right_end": np.where(flipped, low, high),
        }
    )
    for column in ("left_end", "left_quartile", "right_quartile", "right_end"):
        out["x_" + column] = position(out[column].to_numpy())
    out["x_area"] = np.clip(position(value.to_numpy()), 0.0, 1.0)
    out["x_england"] = np.where(has_spine, 0.5, np.nan)
    out["has_spine"] = has_spine
    return out


def spine_chart(
    summary: pd.DataFrame,
    distribution: pd.DataFrame,
    *,
    area_name: str | None = None,
    benchmark_name: str = "England",
    title: str | None = None,
    width: int = DEFAULT_WIDTH,
) -> alt.LayerChart | alt.Chart:
    """Fingertips-style spine chart: one area's indicators against England and all areas.

    One row per summary row (see :func:`spine_positions` for the columns read and
    the layout). Each row: the indicator's name across the full width (phone
    friendly), then the range of areas as a bar (lighter outer quarters, darker
    middle half, Fingertips' greys), England as a black line at the centre, and the
    area's value as a marker coloured and shaped by ``compared_to_england``.
    Better is to the right; indicators with no judgement run from lowest to highest.
    ``area_name`` defaults to the summary's ``area_name``. Under each name, as in
    Fingertips' health profiles, the area's value, England's value and the range of
    areas (its worse end first); with a ``unit`` column ("%", "per 100,000") the values
    are written as the briefing's sentences write them
    (:func:`hwb_toolkit.narrative.format_value`), and a rate's unit follows the name.
    """
    if area_name is None and not _is_empty(summary) and "area_name" in summary.columns:
        names = summary["area_name"].dropna()
        area_name = str(names.iloc[0]) if len(names) else None
    place = area_name or "this area"
    title = title or f"{place} compared with {benchmark_name}"
    if _is_empty(summary):
        return _no_data(title, f"Spine chart for {place}", width)
    spine = spine_positions(summary, distribution)
    units = (
        summary["unit"].astype(object).where(summary["unit"].notna(), "").astype(str).tolist()
        if "unit" in summary.columns else [None] * len(spine)
    )
    periods = (
        summary["period"].astype(object).where(summary["period"].notna(), "").astype(str).tolist()
        if "period" in summary.columns else [""] * len(spine)
    )
    names = [
        label + " (" + ", ".join(p for p in (period, unit if unit and unit.startswith("per ") else "") if p) + ")"
        if period or (unit and unit.startswith("per ")) else label
        for label, period, unit in zip(spine["label"].tolist(), periods, units, strict=True)
    ]
    notes = [
        _spine_values(value, england, left, right, unit, benchmark_name)
        for value, england, left, right, unit in zip(
            spine["value"].tolist(), spine["england_value"].tolist(), spine["left_end"].tolist(),
            spine["right_end"].tolist(), units, strict=True,
        )
    ]
    rows, total = _row_layout(names, width, max_lines=3, notes=notes)
    spine = pd.concat([spine, rows.set_index(spine.index)], axis=1)

    x_scale = alt.Scale(domain=[0, 1], nice=False, zero=False)
    x_axis = alt.Axis(
        values=[0, 0.5, 1],
        labelExpr=(
            "datum.value == 0 ? 'Worse' : datum.value == 1 ? 'Better' : "
            + json.dumps(benchmark_name)
        ),
        labelFlush=True,
        grid=False,
        ticks=False,
        domain=False,
    )
    y_scale = _row_y(total)

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:Q", scale=x_scale, axis=x_axis, title=None)

    def y(field: str) -> alt.Y:
        return alt.Y(f"{field}:Q", scale=y_scale, axis=_HIDDEN)

    drawn = spine[spine["has_spine"]]
    bands = pd.concat(
        [
            pd.DataFrame(
                {
                    "x": drawn[a],
                    "x2": drawn[b],
                    "band": band,
                    "y_bar": drawn["y_bar"],
                    "y_bar2": drawn["y_bar2"],
                }
            )
            for a, b, band in (
                ("x_left_end", "x_left_quartile", "outer"),
                ("x_left_quartile", "x_right_quartile", "middle"),
                ("x_right_quartile", "x_right_end", "outer"),
            )
        ],
        ignore_index=True,
    )
    label_layer = (
        alt.Chart(_records(spine[["label_text", "y_label"]].assign(x=0.0)))
        .mark_text(
            align="left", baseline="top", fontSize=11, lineBreak="\n", color=_TEXT
        )
        .encode(x=x("x"), y=y("y_label"), text=alt.Text("label_text:N"))
    )
    band_layer = (
        alt.Chart(_records(bands))
        .mark_rect()
        .encode(
            x=x("x"),
            x2=alt.X2("x2:Q"),
            y=y("y_bar"),
            y2=alt.Y2("y_bar2:Q"),
            color=alt.Color(
                "band:N",
                scale=alt.Scale(domain=["outer", "middle"], range=[_BAND_OUTER, _BAND_INNER]),
                legend=None,
            ),
        )
    )
    centre_layer = (
        alt.Chart(_records(drawn[["x_england", "y_bar", "y_bar2"]]))
        .mark_rule(color=_BENCHMARK, strokeWidth=2)
        .encode(x=x("x_england"), y=y("y_bar"), y2=alt.Y2("y_bar2:Q"))
    )
    markers = spine[spine["has_spine"] & spine["value"].notna()].assign(
        value_text=lambda d: d["value"].map(_fmt),
        england_text=lambda d: d["england_value"].map(_fmt),
    )
    colour, shape = _comparison_encodings(markers["comparison"], f"Compared with {benchmark_name}")
    marker_layer = (
        alt.Chart(
            _records(
                markers[["label", "x_area", "y_mid", "comparison", "value_text", "england_text"]]
            )
        )
        .mark_point(filled=True, size=110, stroke="black", strokeWidth=0.7, opacity=1)
        .encode(
            x=x("x_area"),
            y=y("y_mid"),
            color=colour,
            shape=shape,
            tooltip=[
                alt.Tooltip("label:N", title="Indicator"),
                alt.Tooltip("value_text:N", title=place),
                alt.Tooltip("england_text:N", title=benchmark_name),
                alt.Tooltip("comparison:N", title=f"Compared with {benchmark_name}"),
            ],
        )
    )
    layers = [label_layer, band_layer, centre_layer, marker_layer]
    no_spine = spine[~spine["has_spine"]]
    if len(no_spine):
        layers.append(
            alt.Chart(_records(no_spine[["y_mid"]].assign(x=0.5, note="No comparison available")))
            .mark_text(fontSize=10, fontStyle="italic", color=_TEXT)
            .encode(x=x("x"), y=y("y_mid"), text=alt.Text("note:N"))
        )

    n = len(spine)
    caption = (
        f"Each row is one figure for {place}, with its value, {benchmark_name}'s value and the "
        f"range of areas of the same kind (worse end first). The marker is {place}'s value, "
        f"coloured by how it compares with {benchmark_name}; the black line is {benchmark_name}; "
        "the grey bar runs from the worst area on the left to the best on the right, darker "
        "for the middle half (lowest to highest for figures that are neither better nor worse)."
    )
    description = (
        f"Spine chart for {place}: {_plural(n, 'indicator')} compared with {benchmark_name}; "
        f"{_comparison_counts(spine['comparison'], benchmark_name)}."
        f" Each bar shows the range across areas, darker for the middle half, with "
        f"{benchmark_name} at the centre; better is to the right (for indicators with no "
        "judgement, higher is to the right)."
    )
    description += _missing_note(int(spine["value"].isna().sum()), "indicator")
    without = int((~spine["has_spine"]).sum())
    if without:
        description += (
            f" {_plural(without, 'indicator')} cannot be placed on a spine "
            f"(no {benchmark_name} value or no spread of areas)."
        )
    chart = alt.layer(*layers).resolve_scale(color="independent", shape="independent")
    return _finish(
        chart,
        title=title,
        description=description,
        width=width,
        height=int(np.ceil(total)),
        caption=caption,
    )


def _spine_values(value, england, left, right, unit: str | None, benchmark_name: str) -> str:
    """A spine row's numbers: "64.0% · England 67.0% · range 55.2% to 72.3%" (worse end first)."""

    def number(x) -> str:
        if x is None or not np.isfinite(x):
            return "no value"
        if unit is None:
            return _fmt(x)
        from hwb_toolkit.text.numbers import format_value

        return format_value(x, unit if unit in ("%", "", "count") else "number")

    parts = [number(value), f"{benchmark_name} {number(england)}"]
    if left is not None and right is not None and np.isfinite(left) and np.isfinite(right):
        parts.append(f"range {number(left)} to {number(right)}")
    return " · ".join(parts)

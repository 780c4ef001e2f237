"""Tests for hwb_toolkit.charts: layout, colours, text alternatives and offline SVG."""

from __future__ import annotations

import html
import io
import re

import altair as alt
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from hwb_toolkit import charts
from hwb_toolkit.errors import InputError, SchemaError


def csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


# --- fixtures -------------------------------------------------------------------

ALL_AREAS = """indicator_id,area_code,area_type,period,value,polarity,category_type
1,E92000001,England,2023,50,high_is_good,
1,A,UA,2023,30,high_is_good,
1,B,UA,2023,45,high_is_good,
1,C,UA,2023,55,high_is_good,
1,D,UA,2023,60,high_is_good,
1,E,UA,2023,50,high_is_good,
1,D,UA,2023,99,high_is_good,Deprivation deciles
2,E92000001,England,2023,50,low_is_good,
2,A,UA,2023,30,low_is_good,
2,B,UA,2023,45,low_is_good,
2,C,UA,2023,55,low_is_good,
2,D,UA,2023,60,low_is_good,
2,E,UA,2023,50,low_is_good,
3,E92000001,England,2022,10,no_judgement,
3,A,UA,2022,8,no_judgement,
3,B,UA,2022,12,no_judgement,
"""

SUMMARY = """indicator_id,indicator_name,area_code,area_name,value,compared_to_england,polarity,england_value
1,Physically active adults,D,Newcastle upon Tyne,60,Better,high_is_good,50
2,Smoking prevalence in adults,D,Newcastle upon Tyne,58,Worse,low_is_good,50
3,Population aged 65 and over,D,Newcastle upon Tyne,,Not compared,no_judgement,10
"""

SERIES = """period,period_sortable,value,lower_ci95,upper_ci95,compared_to_england,indicator_name,area_name,recent_trend
2016/17,20160000,23.0,21.0,25.1,Similar,Physically inactive adults,Leeds,Decreasing and getting better
2015/16,20150000,24.1,22.0,26.3,Worse,Physically inactive adults,Leeds,Decreasing and getting better
2017/18,20170000,,,,Not compared,Physically inactive adults,Leeds,Decreasing and getting better
2018/19,20180000,19.0,17.3,20.8,Better,Physically inactive adults,Leeds,Decreasing and getting better
"""

ENGLAND = """period,period_sortable,value
2015/16,20150000,22.3
2016/17,20160000,22.2
2017/18,20170000,22.0
2018/19,20180000,21.8
"""

AREAS = """area_code,area_name,value,lower_ci95,upper_ci95,compared_to_england,denominator,indicator_name,period
E1,Leeds,19.0,17.0,21.0,Better,40000,Physically inactive adults,2022/23
E2,York,22.0,20.5,23.5,Similar,9000,Physically inactive adults,2022/23
E3,Hull,26.0,24.0,28.0,Worse,12000,Physically inactive adults,2022/23
E4,Wakefield,23.0,21.0,25.0,Similar,15000,Physically inactive adults,2022/23
E5,Rutland,,,,Not compared,800,Physically inactive adults,2022/23
"""

THEMES = pd.DataFrame(
    {
        "theme": ["walking-cycling", "food", "loneliness"],
        "label": ["Walking and cycling", "Food <script>alert(1)</script>", "Loneliness"],
        "size": [12, 7, 5],
        "sectors": [
            {"resident": 6, "council": 3, "vcse": 2},
            {"nhs": 4, "resident": 3},
            {"vcse": np.nan, "resident": 3},
        ],
    }
)

TALLY = """item,label,voters,score
c,Warm spaces,3,3
a,More safe cycle lanes,9,14
b,Community cafes,5,8
"""

NODES = """organisation,sector,n_actions
Leeds City Council,council,8
NHS West Yorkshire ICB,nhs,5
Age UK Leeds,vcse,4
Corner Cafe,business,1
Youth Club,vcse,1
"""

EDGES = """org_a,org_b,shared_actions
Leeds City Council,NHS West Yorkshire ICB,4
Leeds City Council,Age UK Leeds,2
NHS West Yorkshire ICB,Age UK Leeds,1
Age UK Leeds,Corner Cafe,1
"""

def coordinates() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "participant": [f"p{i}" for i in range(12)],
            "x": np.r_[rng.normal(-1, 0.2, 6), rng.normal(1, 0.2, 6)],
            "y": rng.normal(0, 0.3, 12),
        }
    )


GROUPS = pd.Series([0] * 5 + [np.nan] + [1] * 6, index=[f"p{i}" for i in range(12)])


def all_charts() -> dict[str, alt.TopLevelMixin]:
    distribution = charts.spine_distribution(csv(ALL_AREAS))
    return {
        "spine": charts.spine_chart(csv(SUMMARY), distribution),
        "trend": charts.trend_chart(csv(SERIES), csv(ENGLAND)),
        "themes": charts.theme_chart(THEMES),
        "opinion": charts.opinion_map(coordinates(), GROUPS, ["Keep the libraries open"]),
        "network": charts.network_chart(csv(NODES), csv(EDGES)),
    }


@pytest.fixture(scope="module")
def built() -> dict[str, alt.TopLevelMixin]:
    return all_charts()


@pytest.fixture(scope="module")
def svgs(built) -> dict[str, str]:
    return {name: charts.to_svg(chart) for name, chart in built.items()}


def layers(chart) -> list[dict]:
    spec = chart.to_dict()
    return spec.get("layer", [spec])


def layer_with(chart, field: str) -> list[dict]:
    """Data rows of the first layer whose data carries ``field``."""
    for layer in layers(chart):
        values = layer.get("data", {}).get("values", [])
        if values and field in values[0]:
            return values
    raise AssertionError(f"no layer with {field}")


def colour_map(chart) -> dict[str, str]:
    for layer in layers(chart):
        colour = layer.get("encoding", {}).get("color", {})
        if colour.get("field") == "comparison":
            scale = colour["scale"]
            return dict(zip(scale["domain"], scale["range"], strict=True))
    raise AssertionError("no comparison colour")


# --- colours --------------------------------------------------------------------


def test_comparison_colours_are_fingertips_palette():
    fingertips = {
        "Better": "#92D050",
        "Similar": "#FFC000",
        "Worse": "#C00000",
        "Lower": "#5555E6",
        "Higher": "#C2CCFF",
        "Not compared": "#C9C9C9",
    }
    assert {k: charts.COMPARISON_COLOURS[k] for k in fingertips} == fingertips
    labels = set(charts.COMPARISON_COLOURS)
    assert labels == set(charts.COMPARISON_SHAPES) == set(charts.COMPARISON_PHRASES)
    assert len(set(charts.COMPARISON_SHAPES.values())) == len(
        labels
    )  # shape alone tells them apart
    assert len(set(charts.COMPARISON_COLOURS.values())) == len(labels)


def test_colours_and_shapes_map_from_labels_exactly(built, svgs):
    trend = colour_map(built["trend"])
    assert trend == {k: charts.COMPARISON_COLOURS[k] for k in ("Better", "Similar", "Worse")}
    for layer in layers(built["trend"]):
        shape = layer.get("encoding", {}).get("shape")
        if shape:
            scale = shape["scale"]
            assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
                k: charts.COMPARISON_SHAPES[k] for k in ("Better", "Similar", "Worse")
            }
    # The rendered markers use exactly the colours of the labels present.
    fills = set(re.findall(r'fill="(#[0-9A-Fa-f]{6})"', svgs["trend"]))
    assert {"#92D050", "#FFC000", "#C00000"} <= fills
    assert not {"#5555E6", "#C2CCFF", "#00B050"} & fills


def test_fingertips_spellings_are_accepted_and_unknown_labels_raise():
    series = csv(SERIES)
    series["compared_to_england"] = ["Better 99.8%", "Same", None, "worse 95%"]
    chart = charts.trend_chart(series, csv(ENGLAND))
    assert set(colour_map(chart)) == {"Best", "Similar", "Worse"}
    series.loc[1, "compared_to_england"] = "Middle quintile"
    with pytest.raises(InputError) as error:
        charts.trend_chart(series, csv(ENGLAND))
    assert (error.value.row, error.value.column) == (3, "compared_to_england")


# --- spine ------------------------------------------------------------------------


def test_spine_distribution_quartiles_exclude_england_and_categories():
    result = charts.spine_distribution(csv(ALL_AREAS))
    expected = pd.DataFrame(
        {
            "indicator_id": [1, 2, 3],
            "england_value": [50.0, 50.0, 10.0],
            "min": [30.0, 30.0, 8.0],
            "q25": [45.0, 45.0, 9.0],  # linear interpolation (R type 7): 8 + 0.25 * 4
            "q75": [55.0, 55.0, 11.0],
            "max": [60.0, 60.0, 12.0],
            "n_areas": [5, 5, 2],
            "polarity": ["high_is_good", "low_is_good", "no_judgement"],
        }
    )
    assert_frame_equal(result, expected, check_dtype=False)


def test_spine_distribution_refuses_mixed_periods_and_repeated_areas():
    data = csv(ALL_AREAS)
    data.loc[1, "period"] = 2022
    with pytest.raises(InputError, match="several periods"):
        charts.spine_distribution(data)
    repeated = pd.concat([csv(ALL_AREAS), csv(ALL_AREAS).iloc[[2]]], ignore_index=True)
    with pytest.raises(InputError) as error:
        charts.spine_distribution(repeated)
    assert error.value.row == len(repeated) + 1 and error.value.column == "area_code"


def test_spine_positions_orient_by_polarity():
    spine = charts.spine_positions(csv(SUMMARY), charts.spine_distribution(csv(ALL_AREAS)))
    positions = spine.set_index("indicator_id")[
        ["x_left_end", "x_left_quartile", "x_england", "x_right_quartile", "x_right_end", "x_area"]
    ]
    # England 50, areas 30..60: half width 20. High is good: 30 at the left, 60 at 0.75.
    assert positions.loc[1].tolist() == pytest.approx([0.0, 0.375, 0.5, 0.625, 0.75, 0.75])
    # Low is good: flipped, the worst (highest, 60) at 0.25 and the best (30) at the right.
    assert positions.loc[2].tolist() == pytest.approx([0.25, 0.375, 0.5, 0.625, 1.0, 0.3])
    assert spine.set_index("indicator_id").loc[2, "left_end"] == 60
    # No judgement: lowest (8) left, England 10 centred, half width 2.
    assert positions.loc[3, ["x_left_end", "x_right_end"]].tolist() == pytest.approx([0.0, 1.0])
    assert np.isnan(positions.loc[3, "x_area"])  # no value: no marker


def test_spine_chart_draws_the_computed_positions():
    summary, distribution = csv(SUMMARY), charts.spine_distribution(csv(ALL_AREAS))
    chart = charts.spine_chart(summary, distribution)
    markers = layer_with(chart, "x_area")
    assert [(m["label"], m["x_area"]) for m in markers] == [
        ("Physically active adults", pytest.approx(0.75)),
        ("Smoking prevalence in adults", pytest.approx(0.3)),
    ]
    bands = layer_with(chart, "band")
    smoking = sorted((b["x"], b["x2"]) for b in bands if b["y_bar"] == markers[1]["y_mid"] - 7)
    assert smoking == [
        pytest.approx((0.25, 0.375)),
        pytest.approx((0.375, 0.625)),
        pytest.approx((0.625, 1.0)),
    ]


def test_spine_chart_description_counts_the_comparisons():
    rows = ["Better"] * 3 + ["Similar"] * 5 + ["Worse"] * 2
    summary = pd.DataFrame(
        {
            "indicator_id": range(1, 11),
            "indicator_name": [f"Indicator {i}" for i in range(1, 11)],
            "area_name": "Newcastle upon Tyne",
            "value": [1.0] * 9 + [np.nan],
            "compared_to_england": rows,
            "polarity": "high_is_good",
            "england_value": 1.0,
        }
    )
    distribution = pd.DataFrame(
        {"indicator_id": range(1, 10), "min": 0.0, "q25": 0.5, "q75": 1.5, "max": 2.0}
    )
    chart = charts.spine_chart(summary, distribution)
    text = charts.text_alternative(chart)
    assert text.startswith("Spine chart for Newcastle upon Tyne: 10 indicators")
    assert "3 better than England, 5 similar to England and 2 worse than England" in text
    assert "1 indicator has no value" in text
    assert "1 indicator cannot be placed on a spine" in text  # no distribution for id 10
    assert chart.to_dict()["description"] == text


# --- trends and comparisons ---------------------------------------------------------


@pytest.mark.parametrize(("years", "thinned"), [(8, False), (30, True)])
def test_trend_chart_thins_period_labels_only_when_they_would_overlap(years, thinned):
    periods = [str(year) for year in range(1995, 1995 + years)]
    series = pd.DataFrame({
        "period": periods,
        "period_sortable": [int(p) * 10000 for p in periods],
        "value": np.linspace(20, 25, years),
        "lower_ci95": np.linspace(19, 24, years),
        "upper_ci95": np.linspace(21, 26, years),
        "compared_to_england": "Similar",
    })
    england = series[["period", "period_sortable"]].assign(value=22.0)
    svg = charts.to_svg(charts.trend_chart(series, england))
    labels = [p for p in periods if f">{p}</text>" in svg]  # axis labels, not aria text
    hidden = [p for p in periods if f'opacity="0">{p}</text>' in svg]  # thinned out by Vega
    assert labels == periods
    assert bool(hidden) is thinned and "1995" not in hidden


def _legend_title_limits(chart) -> list:
    spec = chart.to_dict()
    return [
        channel["legend"].get("titleLimit", "Vega's default")
        for layer in spec.get("layer", [spec])
        for channel in layer.get("encoding", {}).values()
        if isinstance(channel, dict) and isinstance(channel.get("legend"), dict)
    ]


def test_short_legend_titles_have_no_limit_and_draw_the_same(built):
    # A short legend title gets titleLimit 0 so that Vega does not measure it; the drawing
    # must be the same as with Vega's default limit, and a long title keeps that limit.
    trend = built["trend"]
    assert _legend_title_limits(trend) and set(_legend_title_limits(trend)) == {0}
    spec = trend.to_dict()
    for layer in spec["layer"]:
        for channel in layer["encoding"].values():
            if isinstance(channel, dict) and isinstance(channel.get("legend"), dict):
                del channel["legend"]["titleLimit"]
    assert charts.to_svg(spec) == charts.to_svg(trend)

    long_name = "Newcastle upon Tyne and Gateshead"  # "Compared with ..." is over 24 characters
    far = charts.trend_chart(csv(SERIES), csv(ENGLAND), benchmark_name=long_name)
    assert set(_legend_title_limits(far)) == {"Vega's default"}


def test_trend_chart_orders_periods_and_skips_missing_values():
    chart = charts.trend_chart(csv(SERIES), csv(ENGLAND))
    points = layer_with(chart, "lower_text")
    assert [p["period"] for p in points] == ["2015/16", "2016/17", "2018/19"]
    for layer in layers(chart):
        x = layer.get("encoding", {}).get("x", {})
        if "sort" in x:
            assert x["sort"] == ["2015/16", "2016/17", "2017/18", "2018/19"]
    text = charts.text_alternative(chart)
    assert "4 periods from 2015/16 to 2018/19" in text
    assert (
        "Latest value 19.0 (2018/19, 95% confidence interval 17.3 to 20.8), better than England"
        in text
    )
    assert "Recent trend: decreasing and getting better" in text
    assert "1 period has no value" in text


def test_theme_chart_stacks_sectors_and_counts_unrecorded():
    chart = charts.theme_chart(THEMES)
    segments = pd.DataFrame(layer_with(chart, "sector"))
    walking = segments[segments["label"] == "Walking and cycling"]
    assert walking[["sector", "start", "end"]].values.tolist() == [
        ["Council", 0.0, 3.0],
        ["Voluntary and community", 3.0, 5.0],
        ["Residents", 5.0, 11.0],
        ["Not recorded", 11.0, 12.0],  # size 12, sectors add to 11
    ]
    # Loneliness has a withheld sector count: the rest of its 5 is not drawn as "Not
    # recorded", which would give the withheld count away, nor left undrawn (a total
    # floating beside a short bar): it is one grey "not shown" segment.
    lonely = segments[segments["label"] == "Loneliness"]
    assert lonely[["sector", "start", "end"]].values.tolist() == [
        ["Residents", 0.0, 3.0], ["Small numbers, not shown", 3.0, 5.0]]
    text = charts.text_alternative(chart)
    assert "3 themes, largest first. Walking and cycling: 12;" in text
    assert "1 sector count suppressed" in text
    assert "By sector, counts shown (withheld ones left out): Residents 12," in text


def test_opinion_map_names_groups_like_polis_and_lists_consensus(built):
    chart = built["opinion"]
    points = pd.DataFrame(layer_with(chart, "participant"))
    assert points["group"].value_counts().to_dict() == {
        "Group B": 6,
        "Group A": 5,
        "Not grouped": 1,
    }
    text = charts.text_alternative(chart)
    assert "12 participants in 2 opinion groups: Group A (5 people) and Group B (6 people)" in text
    assert "most agree: “Keep the libraries open”" in text
    assert "Most agree: “Keep the libraries open”" in chart.to_dict()["title"]["subtitle"]


def test_network_layout_is_deterministic_and_pulls_partners_together():
    nodes, edges = csv(NODES), csv(EDGES)
    first = charts.network_layout(nodes, edges)
    again = charts.network_layout(nodes.iloc[::-1], edges.iloc[::-1])
    assert_frame_equal(first, again)
    assert first[["x", "y"]].to_numpy().min() >= 0.05 - 1e-9
    assert first[["x", "y"]].to_numpy().max() <= 0.95 + 1e-9
    spot = first.set_index("organisation")[["x", "y"]]

    def distance(a, b):
        return float(np.hypot(*(spot.loc[a] - spot.loc[b])))

    assert distance("Leeds City Council", "NHS West Yorkshire ICB") < distance(
        "Leeds City Council", "Youth Club"
    )
    assert charts.network_layout(nodes, edges, seed=1).ne(first).any().any()


def test_network_chart_describes_links_and_rejects_unknown_organisations(built):
    text = charts.text_alternative(built["network"])
    assert "Network of 5 organisations and 4 links" in text
    assert "Most connected: Age UK Leeds (3 partners)" in text
    assert "Working alone: Youth Club." in text
    labels = [row["label"] for row in layer_with(built["network"], "label")]
    # Long names wrap onto a second line rather than being cut.
    assert "NHS West Yorkshire\nICB" in labels and "Leeds City Council" in labels
    assert all(len(line) <= 19 for label in labels for line in label.split("\n"))
    assert "NHS West Yorkshire ICB" in {row["organisation"] for row in layer_with(built["network"], "sector")}
    edges = csv(EDGES)
    edges.loc[3, "org_b"] = "Nobody"
    with pytest.raises(InputError) as error:
        charts.network_chart(csv(NODES), edges)
    assert (error.value.row, error.value.column) == (5, "org_b")


NAMESPACES = ('xmlns="http://www.w3.org/2000/svg"', 'xmlns:xlink="http://www.w3.org/1999/xlink"')


def test_every_chart_validates_and_fits_a_phone(built, svgs):
    for name, chart in built.items():
        spec = chart.to_dict()  # altair validates against the Vega-Lite schema
        assert spec["title"]["text"], name
        assert spec["description"] == charts.text_alternative(chart), name
        width, height = map(
            float, re.search(r'width="([\d.]+)" height="([\d.]+)"', svgs[name]).groups()
        )
        assert width == charts.DEFAULT_WIDTH, name
        assert height > 50, name


def test_axis_and_legend_titles_are_plain_words(svgs):
    columns = {
        "lower_ci95",
        "upper_ci95",
        "value",
        "count",
        "x",
        "y",
        "x2",
        "y2",
        "rank",
        "comparison",
        "sector",
        "score",
        "label",
        "period",
        "denominator",
        "band",
    }
    for name, svg in svgs.items():
        titles = re.findall(r"(?:axis|legend) titled '([^']*)'", svg)
        titles += re.findall(r'aria-label="(?:X|Y)-axis titled ([^"]*?) for a', svg)
        for title in titles:
            assert "_" not in title and title not in columns, (name, title)
        assert "Y-axis for" not in svg or name in {
            "spine",
            "themes",
        }, name


def test_svg_is_offline_and_carries_the_text_alternative(built, svgs):
    for name, svg in svgs.items():
        stripped = svg
        for namespace in NAMESPACES:
            stripped = stripped.replace(namespace, "", 1)
        assert "http://" not in stripped and "https://" not in stripped, name
        assert not re.search(r"(?:href|src)\s*=|url\(|@import", stripped), name
        root = re.match(r"<svg[^>]*>", svg).group(0)
        description = charts.text_alternative(built[name])
        assert f'aria-label="{html.escape(description, quote=True)}"' in root, name
        assert f"<desc>{html.escape(description)}</desc>" in svg, name
        assert "<title>" in svg


def test_contributed_text_is_drawn_as_text_never_markup(svgs):
    assert "Food &lt;script&gt;alert(1)&lt;/script&gt;" in svgs["themes"]
    assert "<script" not in svgs["themes"]


def test_empty_inputs_give_a_no_data_chart():
    empty = pd.DataFrame()
    built = [
        charts.spine_chart(empty, empty),
        charts.trend_chart(empty),
        charts.theme_chart(empty),
        charts.opinion_map(empty, None),
        charts.network_chart(empty, empty),
    ]
    for chart in built:
        assert layer_with(chart, "message") == [{"message": "No data"}]
        assert charts.text_alternative(chart).endswith(": no data.")
        assert "No data" in charts.to_svg(chart)
    assert list(charts.spine_distribution(empty).columns)[:2] == ["indicator_id", "england_value"]


def test_missing_columns_are_named():
    with pytest.raises(SchemaError) as error:
        charts.trend_chart(csv(SERIES).drop(columns="value"))
    assert error.value.column == "value"
    with pytest.raises(InputError) as error:
        charts.trend_chart(csv(SERIES).assign(value=["1", "2", "n/a", "4"]))
    assert (error.value.row, error.value.column) == (4, "value")


def test_spine_without_a_distribution_says_so_instead_of_drawing():
    chart = charts.spine_chart(csv(SUMMARY), pd.DataFrame())
    notes = layer_with(chart, "note")
    assert len(notes) == 3 and notes[0]["note"] == "No comparison available"
    assert "3 indicators cannot be placed on a spine" in charts.text_alternative(chart)
    assert not any(
        "x_area" in layer.get("data", {}).get("values", [{}])[0]
        for layer in layers(chart)
        if layer.get("data", {}).get("values")
    )


def test_missing_text_and_string_dtypes_are_handled():
    series = csv(SERIES).astype({"area_name": "string", "compared_to_england": "string"})
    series.loc[0, "compared_to_england"] = pd.NA
    chart = charts.trend_chart(series, csv(ENGLAND))
    points = {p["period"]: p for p in layer_with(chart, "comparison")}
    assert points["2016/17"]["comparison"] == "Not compared"

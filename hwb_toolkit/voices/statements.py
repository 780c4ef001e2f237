"""What a poll's statements say about the room, with Polis' own statistics: what nearly
everyone agrees or disagrees with (:func:`consensus`), what each opinion group stands for
(:func:`representative_statements`), where groups split (:func:`divisive_statements`) and
where people are unsure (:func:`uncertain_statements`). The opinion groups come from
:mod:`hwb_toolkit.voices.opinion`; its docstring says how faithful to Polis both are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal

import numpy as np
import pandas as pd

from hwb_toolkit.errors import InputError
from hwb_toolkit.voices.opinion import (
    AGREE,
    DISAGREE,
    PICK_MAX,
    Z_90,
    _exclusion_mask,
    _group_labels,
    _Matrix,
    _vote_matrix,
)


def _counts(matrix: _Matrix, membership: np.ndarray) -> tuple[np.ndarray, ...]:
    """Agree, disagree and seen counts per group (rows of ``membership``) and item, as int64."""
    values = matrix.values
    weights = membership.astype(np.float64)
    n_agree = weights @ (values == 1).astype(np.float64)
    n_disagree = weights @ (values == -1).astype(np.float64)
    n_seen = weights @ matrix.voted.astype(np.float64)
    return tuple(np.rint(a).astype(np.int64) for a in (n_agree, n_disagree, n_seen))


_DECIMAL64 = Context(prec=16, rounding=ROUND_HALF_EVEN)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator as Clojure turns an exact Ratio into a double.

    ``clojure.lang.Ratio.doubleValue`` divides to 16 significant digits
    (``MathContext.DECIMAL64``, half-even) and then converts that decimal to the
    nearest double; plain float division differs in the last bit now and then
    (8/9 gives 0.8888888888888888, Polis publishes 0.888888888888889).
    Vectorised over the distinct (numerator, denominator) pairs.
    """
    num = np.asarray(numerator, dtype=np.int64)
    den = np.asarray(denominator, dtype=np.int64)
    shape = np.broadcast(num, den).shape
    pairs = np.stack([np.broadcast_to(num, shape).ravel(), np.broadcast_to(den, shape).ravel()])
    if pairs.shape[1] == 0:
        return np.zeros(shape)
    unique, inverse = np.unique(pairs, axis=1, return_inverse=True)
    converted = np.array(
        [
            float(_DECIMAL64.divide(Decimal(int(n)), Decimal(int(d))))
            for n, d in zip(unique[0], unique[1], strict=True)
        ]
    )
    return converted[inverse.ravel()].reshape(shape)


def _proportion_test(n_success: np.ndarray, n_trials: np.ndarray) -> np.ndarray:
    """Polis' one-proportion z statistic (``stats/prop-test``) on counts plus one."""
    succ, n = n_success + 1, n_trials + 1
    return (2.0 * np.sqrt(n.astype(np.float64))) * (_ratio(succ, n) - 0.5)


def _two_proportion_test(
    success_in: np.ndarray, success_out: np.ndarray, n_in: np.ndarray, n_out: np.ndarray
) -> np.ndarray:
    """Polis' two-proportion z statistic (``stats/two-prop-test``) on counts plus one.

    With s = successes + 1 and n = trials + 1 on each side and pooled p = S / T,
    the variance term p (1 - p) (1/n_in + 1/n_out) is exactly S (T - S) / (T n_in n_out),
    which keeps the rational arithmetic Polis does in integers. 0 when p == 1.
    """
    s_in, s_out, n_in, n_out = success_in + 1, success_out + 1, n_in + 1, n_out + 1
    pooled_s, total = s_in + s_out, n_in + n_out
    difference = _ratio(s_in * n_out - s_out * n_in, n_in * n_out)
    variance = _ratio(pooled_s * (total - pooled_s), total * n_in * n_out)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = difference / np.sqrt(variance)
    return np.where(pooled_s == total, 0.0, z)


@dataclass(frozen=True)
class _Stats:
    """Polis' comment stats for one or more groups: arrays of shape (groups, items)."""

    na: np.ndarray
    nd: np.ndarray
    ns: np.ndarray
    pa: np.ndarray
    pd: np.ndarray
    pat: np.ndarray
    pdt: np.ndarray


def _comment_stats(na: np.ndarray, nd: np.ndarray, ns: np.ndarray) -> _Stats:
    return _Stats(
        na=na,
        nd=nd,
        ns=ns,
        pa=_ratio(na + 1, ns + 2),
        pd=_ratio(nd + 1, ns + 2),
        pat=_proportion_test(na, ns),
        pdt=_proportion_test(nd, ns),
    )


@dataclass(frozen=True)
class Consensus:
    """Polis' consensus statements.

    agree, disagree: up to 5 item ids each, best first (Polis' majority consensus,
        counted over every voter).
    group_informed: Series by item (every item voted on): Polis' group-informed
        consensus, the product over opinion groups of (agree + 1) / (votes + 2),
        counted over grouped participants; 0-1, higher = more agreement across groups.
    table: the selected statements with Polis' figures: direction, rank (1 = best),
        item, n_success, n_trials, p_success (0-1), p_test (z).
    """

    agree: list
    disagree: list
    group_informed: pd.Series
    table: pd.DataFrame = field(repr=False)


def consensus(
    votes: pd.DataFrame,
    groups: Mapping | pd.Series,
    *,
    exclude: Iterable | None = None,
    pick_max: int = PICK_MAX,
) -> Consensus:
    """Statements most people agree (or disagree) with, and group-informed consensus.

    ``agree``/``disagree`` follow Polis' ``select-consensus-comments``: over every
    participant who voted, a statement qualifies for "agree" when its smoothed
    agree probability pa = (agrees + 1) / (votes + 2) exceeds 0.5 and its
    one-proportion z exceeds 1.2816 (90%); qualifiers are ranked by pa * z,
    best first, ties in statement order, and the first ``pick_max`` kept.
    "disagree" likewise with disagrees. ``exclude``: item ids left out
    (Polis' moderated-out statements, ``mod-out``).

    ``group_informed`` follows Polis' ``group-aware-consensus``: for each item
    the product, over groups in id order, of (agrees + 1) / (votes + 2) among the
    group's members (passes count as votes). All items, excluded ones included,
    as Polis publishes them. ``groups``: participant -> group id.
    """
    matrix = _vote_matrix(votes)
    everyone = np.ones((1, len(matrix.participants)), dtype=bool)
    na, nd, ns = _counts(matrix, everyone)
    stats = _comment_stats(na[0], nd[0], ns[0])
    eligible = ~_exclusion_mask(matrix.items, exclude)

    rows, lists = [], {}
    for direction, prob, test in ((AGREE, stats.pa, stats.pat), (DISAGREE, stats.pd, stats.pdt)):
        n_success = stats.na if direction == AGREE else stats.nd
        metric = prob * test
        chosen = np.flatnonzero(eligible & (prob > 0.5) & (test > Z_90))
        chosen = chosen[np.argsort(-metric[chosen], kind="stable")][:pick_max]
        lists[direction] = [matrix.items[i] for i in chosen]
        rows += [
            {
                "direction": direction,
                "rank": rank,
                "item": matrix.items[i],
                "n_success": int(n_success[i]),
                "n_trials": int(stats.ns[i]),
                "p_success": float(prob[i]),
                "p_test": float(test[i]),
            }
            for rank, i in enumerate(chosen, start=1)
        ]
    table = pd.DataFrame(
        rows,
        columns=["direction", "rank", "item", "n_success", "n_trials", "p_success", "p_test"],
    )

    group_ids, group_index = _group_labels(matrix, groups)
    membership = group_index[None, :] == np.arange(len(group_ids))[:, None]
    g_agree, _, g_seen = _counts(matrix, membership)
    probabilities = (g_agree + 1.0) / (g_seen + 2.0)
    # Multiply group by group, in id order, as Polis' reduce does (bit-for-bit).
    product = probabilities[0].copy()
    for row in probabilities[1:]:
        product = product * row
    group_informed = pd.Series(
        product, index=pd.Index(matrix.items, name="item"), name="group_informed_consensus"
    )
    return Consensus(lists[AGREE], lists[DISAGREE], group_informed, table)


def _group_stats(matrix: _Matrix, groups: Mapping | pd.Series):
    group_ids, group_index = _group_labels(matrix, groups)
    membership = group_index[None, :] == np.arange(len(group_ids))[:, None]
    na, nd, ns = _counts(matrix, membership)
    inside = _comment_stats(na, nd, ns)
    rest_na, rest_nd, rest_ns = na.sum(0) - na, nd.sum(0) - nd, ns.sum(0) - ns
    # ra = pa / pa(rest), kept as one exact ratio as Polis does.
    ra = _ratio((na + 1) * (rest_ns + 2), (ns + 2) * (rest_na + 1))
    rd = _ratio((nd + 1) * (rest_ns + 2), (ns + 2) * (rest_nd + 1))
    rat = _two_proportion_test(na, rest_na, ns, rest_ns)
    rdt = _two_proportion_test(nd, rest_nd, ns, rest_ns)
    return group_ids, inside, ra, rd, rat, rdt


def _select_for_group(
    items: pd.Index,
    eligible: np.ndarray,
    s: dict[str, list],
    pick_max: int,
) -> list[dict]:
    """Polis' ``select-rep-comments`` for one group (plain Python lists of one group's stats)."""

    def finalize(i: int) -> dict:
        # Polis picks agree only when strictly more representative (rat > rdt).
        if s["rat"][i] > s["rdt"][i]:
            keys, direction = ("na", "pa", "pat", "ra", "rat"), AGREE
        else:
            keys, direction = ("nd", "pd", "pdt", "rd", "rdt"), DISAGREE
        n_success, p_success, p_test, repness, repness_test = (s[k][i] for k in keys)
        return {
            "item": items[i],
            "direction": direction,
            "n_success": n_success,
            "n_trials": s["ns"][i],
            "p_success": p_success,
            "p_test": p_test,
            "repness": repness,
            # Polis publishes (float repness-test): a 32-bit float.
            "repness_test": float(np.float32(repness_test)),
            "best_agree": False,
        }

    sufficient: list[int] = []
    best: int | None = None
    best_test = None
    best_agree: int | None = None
    for i in np.flatnonzero(eligible):
        na, nd, pa, pat, ra, rat = (s[k][i] for k in ("na", "nd", "pa", "pat", "ra", "rat"))
        if (rat > Z_90 and pat > Z_90) or (s["rdt"][i] > Z_90 and s["pdt"][i] > Z_90):
            sufficient.append(i)
        if not sufficient and (best is None or max(rat, s["rdt"][i]) > best_test):
            best = i
            best_test = float(np.float32(max(rat, s["rdt"][i])))
        # beats-best-agr?: the rule changes once a current best exists.
        if na == 0 and nd == 0:
            beats = False
        elif best_agree is not None and s["ra"][best_agree] > 1.0:
            b = best_agree
            beats = ra * rat * pa * pat > s["ra"][b] * s["rat"][b] * s["pa"][b] * s["pat"][b]
        elif best_agree is not None:
            beats = pa * pat > s["pa"][best_agree] * s["pat"][best_agree]
        else:
            beats = pat > Z_90 or (ra > 1.0 and pa > 0.5)
        if beats:
            best_agree = i

    head = []
    if best_agree is not None:
        row = finalize(best_agree)
        row["best_agree"] = True
        head = [row]
    elif best is not None:
        head = [finalize(best)]
    if not sufficient:
        return head
    rest = [finalize(i) for i in sufficient if i != best_agree]
    # Polis' repness metric, multiplied in its order (ratio, float32 test, ratio, test).
    rest.sort(
        key=lambda r: -(r["repness"] * r["repness_test"] * r["p_success"] * r["p_test"])
    )
    chosen = (head if best_agree is not None else []) + rest
    chosen = chosen[:pick_max]
    return [r for r in chosen if r["direction"] == AGREE] + [
        r for r in chosen if r["direction"] == DISAGREE
    ]


def representative_statements_table(
    votes: pd.DataFrame,
    groups: Mapping | pd.Series,
    *,
    exclude: Iterable | None = None,
    pick_max: int = PICK_MAX,
) -> pd.DataFrame:
    """Polis' representative statements of each group, with Polis' figures.

    One row per selected statement, groups in id order, statements in Polis'
    order: group, rank (1 = first), item, direction ("agree"/"disagree", Polis'
    ``repful-for``), n_success (agrees or disagrees in the group), n_trials
    (votes in the group, passes included), p_success = (n_success + 1) /
    (n_trials + 2), p_test (one-proportion z), repness = p_success / the same
    probability among all other grouped participants, repness_test
    (two-proportion z against the other groups, as a 32-bit float like Polis),
    best_agree (Polis' ``best-agree`` statement, always put first).

    Selection (Polis' ``select-rep-comments``): a statement is significant for a
    group when both its z statistics exceed 1.2816 for agree (or both for
    disagree); significant ones are sorted by repness * repness_test *
    p_success * p_test, the group's best agreed statement goes first, the first
    ``pick_max`` are kept and agrees are listed before disagrees. A group with
    no significant statement gets its single best one. Counts use grouped
    participants only; ``exclude`` drops item ids (Polis' ``mod-out``).
    """
    return _representative_table(_vote_matrix(votes), groups, exclude, pick_max)


def _representative_table(
    matrix: _Matrix, groups: Mapping | pd.Series, exclude: Iterable | None, pick_max: int
) -> pd.DataFrame:
    group_ids, inside, ra, rd, rat, rdt = _group_stats(matrix, groups)
    eligible = ~_exclusion_mask(matrix.items, exclude)
    rows = []
    for g, group in enumerate(group_ids):
        lists = {
            "na": inside.na[g].tolist(),
            "nd": inside.nd[g].tolist(),
            "ns": inside.ns[g].tolist(),
            "pa": inside.pa[g].tolist(),
            "pd": inside.pd[g].tolist(),
            "pat": inside.pat[g].tolist(),
            "pdt": inside.pdt[g].tolist(),
            "ra": ra[g].tolist(),
            "rd": rd[g].tolist(),
            "rat": rat[g].tolist(),
            "rdt": rdt[g].tolist(),
        }
        for rank, row in enumerate(
            _select_for_group(matrix.items, eligible, lists, pick_max), start=1
        ):
            rows.append({"group": group, "rank": rank, **row})
    columns = [
        "group",
        "rank",
        "item",
        "direction",
        "n_success",
        "n_trials",
        "p_success",
        "p_test",
        "repness",
        "repness_test",
        "best_agree",
    ]
    return pd.DataFrame(rows, columns=columns)


def representative_statements(
    votes: pd.DataFrame,
    groups: Mapping | pd.Series,
    *,
    exclude: Iterable | None = None,
    pick_max: int = PICK_MAX,
) -> dict:
    """Group id -> list of (item, "agree"|"disagree") in Polis' order.

    See :func:`representative_statements_table` for the tests, the figures and
    the selection rules. Every group in ``groups`` gets a list (possibly empty).
    """
    matrix = _vote_matrix(votes)
    table = _representative_table(matrix, groups, exclude, pick_max)
    result = {group: [] for group in _group_labels(matrix, groups)[0]}
    for group, item, direction in table[["group", "item", "direction"]].itertuples(index=False):
        result[group].append((item, direction))
    return result


def divisive_statements(
    votes: pd.DataFrame,
    groups: Mapping | pd.Series,
    *,
    exclude: Iterable | None = None,
) -> pd.DataFrame:
    """Statements on which opinion groups differ most, most divisive first.

    divisiveness = highest minus lowest smoothed agree probability
    (agrees + 1) / (votes + 2) across groups (0-1; passes count as votes, so a
    group that mostly passes pulls towards 0.5). Columns: item, divisiveness,
    most_agreeing_group, least_agreeing_group, then one column per group,
    ``p_agree_<group>``. Ties keep statement order. Counted over grouped
    participants; needs two groups or more.
    """
    matrix = _vote_matrix(votes)
    group_ids, group_index = _group_labels(matrix, groups)
    if len(group_ids) < 2:
        raise InputError("divisive statements need at least two opinion groups")
    membership = group_index[None, :] == np.arange(len(group_ids))[:, None]
    na, _, ns = _counts(matrix, membership)
    p_agree = (na + 1.0) / (ns + 2.0)
    spread = p_agree.max(0) - p_agree.min(0)
    frame = pd.DataFrame(
        {
            "item": matrix.items,
            "divisiveness": spread,
            "most_agreeing_group": group_ids[p_agree.argmax(0)],
            "least_agreeing_group": group_ids[p_agree.argmin(0)],
        }
    )
    for g, group in enumerate(group_ids):
        frame[f"p_agree_{group}"] = p_agree[g]
    frame = frame[~_exclusion_mask(matrix.items, exclude)]
    order = np.argsort(-frame["divisiveness"].to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def uncertain_statements(
    votes: pd.DataFrame,
    *,
    min_share: float = 0.3,
    exclude: Iterable | None = None,
) -> pd.DataFrame:
    """Statements people are unsure about: a high share of passes.

    pass_share = passes / votes (0-1, raw, over every voter). Returns statements
    with pass_share >= ``min_share`` (default 0.3), highest first, ties in
    statement order; columns item, votes, passes, pass_share.
    """
    matrix = _vote_matrix(votes)
    voted = matrix.voted.sum(0)
    passes = (matrix.values == 0).sum(0)
    share = passes / np.maximum(voted, 1)
    frame = pd.DataFrame(
        {"item": matrix.items, "votes": voted, "passes": passes, "pass_share": share}
    )
    keep = (share >= min_share) & ~_exclusion_mask(matrix.items, exclude)
    frame = frame[keep]
    order = np.argsort(-frame["pass_share"].to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)

"""Agreement and division in agree/disagree polls, with Polis' own maths.

Role: the "Polis method" of the Voices engine. It takes the canonical votes
table (``participant``, ``item``, ``vote`` with 1 = agree, -1 = disagree,
0 = pass; one latest vote per participant and item; other columns are ignored)
and answers four questions:

* who thinks alike (:func:`opinion_groups`: Polis' PCA projection and two-level
  k-means, k chosen by silhouette);
* what nearly everyone agrees or disagrees with (:func:`consensus`: Polis'
  majority consensus and group-informed consensus);
* what each opinion group stands for (:func:`representative_statements`,
  :func:`representative_statements_table`: Polis' representativeness tests);
* where groups split, and where people are unsure
  (:func:`divisive_statements`, :func:`uncertain_statements`).

Fidelity. The statistics are Polis' (``polismath.math.repness``, ``stats``,
``conversation``): smoothed probabilities (n + 1) / (N + 2), the one-proportion
z-test ``2 * sqrt(N + 1) * ((n + 1) / (N + 1) - 0.5)``, the two-proportion
z-test on counts plus one, 90% one-sided significance ``z > 1.2816``, the
selection rules of ``select-rep-comments`` and ``select-consensus-comments``.
Polis computes the probabilities as exact rationals (Clojure ``Ratio``) and turns
them into doubles by rounding to 16 significant decimal digits first
(``MathContext.DECIMAL64``); it publishes ``repness-test`` as a 32-bit float.
Both are reproduced so the published numbers match to the last bit. Sorts are
stable, so ties keep statement order (numeric ids in numeric order).

Grouping is not reproducible bit for bit from one snapshot of votes: Polis keeps
state between updates (participants stay "in the conversation" once in, k-means
starts from the previous clusters, k changes only after four updates agree).
:func:`opinion_groups` recomputes from scratch; see its docstring.

Pure: no file is read here. Polis' published groups can be passed as ``groups``
(a mapping participant -> group id) to compare the formulas with Polis' output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from hwb_toolkit.errors import InputError, SchemaError

__all__ = [
    "Consensus",
    "OpinionGroups",
    "consensus",
    "divisive_statements",
    "opinion_groups",
    "representative_statements",
    "representative_statements_table",
    "uncertain_statements",
]

#: Polis' one-sided 90% critical value (``stats/z-sig-90?``).
Z_90 = 1.2816
#: Most statements Polis lists per consensus direction and per group.
PICK_MAX = 5
#: Polis' base clusters (``:base-k``) and largest number of opinion groups (``:max-k``).
BASE_K = 100
MAX_K = 5
#: Polis keeps at least this many participants in the conversation (``greedy-n``).
GREEDY_N = 15

AGREE, DISAGREE = "agree", "disagree"


# --- the vote matrix ---------------------------------------------------------


def _natural_order(labels: pd.Index) -> pd.Index:
    """Sort ids numerically when they all are integers ("2" before "10"), else as text."""
    as_text = labels.astype(str)
    numeric = pd.to_numeric(pd.Series(as_text), errors="coerce")
    if len(labels) and numeric.notna().all() and (numeric % 1 == 0).all():
        order = np.argsort(numeric.to_numpy(), kind="stable")
    else:
        order = np.argsort(as_text.to_numpy(dtype=object), kind="stable")
    return labels[order]


@dataclass(frozen=True)
class _Matrix:
    """Participants x items, float64 votes with NaN where a participant did not vote."""

    participants: pd.Index
    items: pd.Index
    values: np.ndarray

    @property
    def voted(self) -> np.ndarray:
        return ~np.isnan(self.values)


def _vote_matrix(votes: pd.DataFrame) -> _Matrix:
    """Validate the canonical votes and pivot them with integer codes (no pandas pivot)."""
    if not isinstance(votes, pd.DataFrame):
        raise InputError("votes must be a DataFrame with columns participant, item, vote")
    missing = [c for c in ("participant", "item", "vote") if c not in votes.columns]
    if missing:
        raise SchemaError(
            f"votes lack the required column(s) {', '.join(missing)}", column=missing[0]
        )
    if votes.empty:
        raise InputError("there are no votes to analyse")
    vote = pd.to_numeric(votes["vote"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(vote, (-1.0, 0.0, 1.0))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"vote {votes['vote'].iloc[position]!r} is not 1 (agree), -1 (disagree) or 0 (pass)",
            row=position + 2,
            column="vote",
        )
    for column in ("participant", "item"):
        blank = votes[column].isna().to_numpy()
        if blank.any():
            raise InputError(
                f"{column} is blank", row=int(np.flatnonzero(blank)[0]) + 2, column=column
            )
    p_codes, p_labels = pd.factorize(votes["participant"])
    i_codes, i_labels = pd.factorize(votes["item"])
    participants = _natural_order(pd.Index(p_labels))
    items = _natural_order(pd.Index(i_labels))
    # Position of each factorized code in the natural order.
    rows = participants.get_indexer(p_labels)[p_codes]
    cols = items.get_indexer(i_labels)[i_codes]
    flat = rows * len(items) + cols
    seen, first, counts = np.unique(flat, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = np.flatnonzero(flat == seen[counts > 1][0])
        raise InputError(
            f"participant {votes['participant'].iloc[dup[0]]!r} has {len(dup)} votes on item "
            f"{votes['item'].iloc[dup[0]]!r} (rows {', '.join(str(d + 2) for d in dup[:5])}); "
            "keep only the latest vote of each participant on each item",
            row=int(dup[1]) + 2,
            column="item",
        )
    values = np.full((len(participants), len(items)), np.nan)
    values[rows, cols] = vote
    return _Matrix(participants, items, values)


def _group_labels(
    matrix: _Matrix, groups: Mapping | pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Group ids (sorted) and, per matrix row, the index of its group (-1 = ungrouped).

    Participants in ``groups`` that never voted are ignored: they add no votes.
    """
    series = groups if isinstance(groups, pd.Series) else pd.Series(dict(groups), dtype=object)
    series = series.dropna()
    if series.empty:
        raise InputError("groups is empty: give a group id for at least one participant")
    # Accept participant ids given as numbers for textual ids ("7" and 7 alike).
    as_text = pd.Series(series.to_numpy(), index=series.index.astype(str))
    if as_text.index.duplicated().any():
        raise InputError(
            f"participant {as_text.index[as_text.index.duplicated()][0]!r} appears twice in groups"
        )
    # Plain Python ids (7, not numpy.int64(7)) so results print and compare simply.
    plain = [g.item() if isinstance(g, np.generic) else g for g in pd.unique(as_text.to_numpy())]
    group_ids = np.array(sorted(plain), dtype=object)
    per_row = as_text.reindex(matrix.participants.astype(str))
    index = pd.Index(group_ids).get_indexer(per_row.to_numpy())
    return group_ids, index


def _exclusion_mask(items: pd.Index, exclude: Iterable | None) -> np.ndarray:
    if exclude is None:
        return np.zeros(len(items), dtype=bool)
    wanted = {str(x) for x in exclude}
    return np.array([str(x) in wanted for x in items], dtype=bool)


def _counts(matrix: _Matrix, membership: np.ndarray) -> tuple[np.ndarray, ...]:
    """Agree, disagree and seen counts per group (rows of ``membership``) and item, as int64."""
    values = matrix.values
    weights = membership.astype(np.float64)
    n_agree = weights @ (values == 1).astype(np.float64)
    n_disagree = weights @ (values == -1).astype(np.float64)
    n_seen = weights @ matrix.voted.astype(np.float64)
    return tuple(np.rint(a).astype(np.int64) for a in (n_agree, n_disagree, n_seen))


# --- Polis' arithmetic ---------------------------------------------------------

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


# --- consensus -------------------------------------------------------------------


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


# --- representativeness ----------------------------------------------------------------


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


# --- division and uncertainty --------------------------------------------------------


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


# --- opinion groups ------------------------------------------------------------------


@dataclass(frozen=True)
class OpinionGroups:
    """Who thinks alike.

    groups: Series participant -> group id (int, 0 = largest group), for the
        participants in the conversation only.
    coordinates: DataFrame participant, x, y: every participant's position on
        Polis' two principal components (sparsity-scaled), in_conversation (bool).
    k: number of groups; silhouette: mean silhouette of the chosen clustering
        (-1 to 1, of base clusters as Polis computes it); silhouettes: k -> value
        for every k tried.
    in_conversation: participants clustered (enough votes).
    """

    groups: pd.Series
    coordinates: pd.DataFrame
    k: int
    silhouette: float
    silhouettes: dict
    in_conversation: pd.Index


def _project(matrix: _Matrix, zeroed: np.ndarray) -> np.ndarray:
    """Polis' PCA and sparsity-aware projection of every participant (n x 2)."""
    values = matrix.values.copy()
    values[:, zeroed] = 0.0  # Polis zeroes moderated-out columns: they count as votes
    voted = ~np.isnan(values)
    n_voted = voted.sum(0)
    column_mean = np.divide(
        np.where(voted, values, 0.0).sum(0), n_voted, out=np.zeros(values.shape[1]),
        where=n_voted > 0,
    )
    imputed = np.where(voted, values, column_mean)
    n_components = min(2, *imputed.shape)
    # The exact principal axes (Polis approximates them by 100 power iterations).
    pca = PCA(n_components=n_components, svd_solver="covariance_eigh").fit(imputed)
    components = np.zeros((2, values.shape[1]))
    components[:n_components] = pca.components_
    centred = np.where(voted, values - pca.mean_, 0.0)
    projection = centred @ components.T
    scale = np.sqrt(values.shape[1] / np.maximum(voted.sum(1), 1))
    return projection * scale[:, None]


def _in_conversation(matrix: _Matrix, min_votes: int) -> np.ndarray:
    """Polis' in-conv rule: min(min_votes, number of items) votes, topped up to 15 people."""
    counts = matrix.voted.sum(1)
    keep = counts >= min(min_votes, len(matrix.items))
    if keep.sum() < GREEDY_N:
        others = np.flatnonzero(~keep)
        top = others[np.argsort(-counts[others], kind="stable")][: GREEDY_N - keep.sum()]
        keep[top] = True
    return keep


def _base_clusters(points: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polis' base clusters: up to 100 k-means centres; returns centres, weights, labels."""
    distinct, labels = np.unique(points, axis=0, return_inverse=True)
    labels = labels.ravel()
    if len(distinct) <= BASE_K:
        # With 100 clusters or more available, every distinct position is its own base cluster.
        return distinct, np.bincount(labels, minlength=len(distinct)).astype(float), labels
    # Several starts: Polis refines one clustering over many updates, a snapshot has no history.
    model = KMeans(n_clusters=BASE_K, n_init=4, random_state=seed).fit(points)
    weights = np.bincount(model.labels_, minlength=BASE_K).astype(float)
    used = weights > 0
    remap = np.cumsum(used) - 1
    return model.cluster_centers_[used], weights[used], remap[model.labels_]


def _cluster(points: np.ndarray, k: int | None, seed: int):
    """Base clusters, then weighted k-means of their centres for each candidate k."""
    centres, weights, base_labels = _base_clusters(points, seed)
    n_base = len(centres)
    if k is not None:
        if k < 1 or k > n_base:
            raise InputError(f"k={k} is impossible with {n_base} distinct participant positions")
        candidates = [k]
    else:
        candidates = list(range(2, min(MAX_K, 2 + n_base // 12, n_base - 1) + 1))
    silhouettes: dict[int, float] = {}
    labellings: dict[int, np.ndarray] = {}
    for kk in candidates or [1]:
        if kk == 1:
            labels = np.zeros(n_base, dtype=int)
        else:
            model = KMeans(n_clusters=kk, n_init=50, random_state=seed)
            labels = model.fit(centres, sample_weight=weights).labels_
        labellings[kk] = labels
        n_labels = len(np.unique(labels))
        silhouettes[kk] = (
            float(silhouette_score(centres, labels)) if 1 < n_labels < n_base else float("nan")
        )
    # Polis' (apply max-key ...) keeps the last of equal maxima.
    chosen = max(
        labellings, key=lambda kk: (np.nan_to_num(silhouettes[kk], nan=-np.inf), kk)
    )
    return chosen, labellings, silhouettes, centres, base_labels


def opinion_groups(
    votes: pd.DataFrame,
    k: int | None = None,
    seed: int = 0,
    *,
    min_votes: int = 7,
    exclude: Iterable | None = None,
    include: Iterable | None = None,
) -> OpinionGroups:
    """Polis' opinion groups, recomputed from one snapshot of the votes.

    Steps, as in Polis' ``conversation.clj``:

    1. participant x item matrix (agree 1, disagree -1, pass 0); items in
       ``exclude`` (moderated out) are set to 0 for everyone;
    2. missing votes imputed with the item's mean, two principal components
       (exact eigen-decomposition; Polis runs 100 power iterations, which
       converge to the same axes up to sign);
    3. each participant projected using only the items they voted on, scaled by
       sqrt(items / items voted) so light voters are not pulled to the centre;
    4. participants "in the conversation": at least min(``min_votes``, items)
       votes; if that leaves fewer than 15, the heaviest voters are added up to 15;
    5. base clusters: k-means with 100 centres on those participants (below 100
       distinct positions every position is its own base cluster, as in Polis);
    6. groups: k-means of the base centres weighted by their sizes, for k from 2
       to min(5, 2 + base clusters // 12) (or the given ``k``), keeping the k with
       the highest silhouette of the base centres.

    Differences from Polis, which carries state between updates: k-means here
    starts from scikit-learn's k-means++ (4 starts for base clusters, 50 for
    groups, seeded with ``seed``) instead of the last update's clusters;
    participants never "stay in" from earlier updates; the best k is taken at
    once (Polis waits until the same k wins 4 updates in a row). ``include``:
    participants to cluster whatever their vote count (e.g. Polis' ``in-conv``
    from an earlier update, to carry its memory). Group ids are renumbered by
    size, largest first (ties: the group of the earliest participant).
    """
    matrix = _vote_matrix(votes)
    zeroed = _exclusion_mask(matrix.items, exclude)
    xy = _project(matrix, zeroed)
    in_conv = _in_conversation(matrix, min_votes)
    if include is not None:
        in_conv |= matrix.participants.astype(str).isin([str(p) for p in include])
    # k-means on at most a few thousand 2-D points: threads only add overhead, and
    # on a busy machine OpenMP spinning made it 7x slower (measured).
    with threadpool_limits(limits=1):
        chosen, labellings, silhouettes, centres, base_labels = _cluster(
            xy[in_conv], k, seed
        )
    participant_labels = labellings[chosen][base_labels]


    # Renumber: largest group first, ties by earliest participant.
    groups_found = np.unique(participant_labels)
    sizes = np.array([(participant_labels == g).sum() for g in groups_found])
    first = np.array([np.flatnonzero(participant_labels == g)[0] for g in groups_found])
    order = np.lexsort((first, -sizes))
    renumber = np.empty(len(groups_found), dtype=np.int64)
    renumber[order] = np.arange(len(groups_found))
    final = renumber[np.searchsorted(groups_found, participant_labels)]

    in_conv_ids = matrix.participants[in_conv]
    groups = pd.Series(final, index=pd.Index(in_conv_ids, name="participant"), name="group")
    coordinates = pd.DataFrame(
        {
            "participant": matrix.participants,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "in_conversation": in_conv,
        }
    )
    return OpinionGroups(
        groups=groups,
        coordinates=coordinates,
        k=len(groups_found),
        silhouette=silhouettes[chosen],
        silhouettes=silhouettes,
        in_conversation=pd.Index(in_conv_ids, name="participant"),
    )

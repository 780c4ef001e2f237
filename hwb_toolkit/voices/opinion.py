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
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from hwb_toolkit.errors import InputError, SchemaError

__all__ = ["OpinionGroups", "opinion_groups"]


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

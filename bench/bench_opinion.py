"""Benchmark: Polis' maths on a 2,000 participant x 500 statement poll, against red-dwarf.

Generates a seeded agree/disagree poll (default 2,000 participants, 500
statements, 30% of cells voted) with planted opinion groups: each participant
belongs to one of four groups and each group has its own agree / disagree /
pass probabilities per statement, a few statements are agreed by everyone and
a few rejected by everyone, so clustering, consensus and representativeness
all have something to find. Then, in the same run, on the same votes:

- ours: :func:`hwb_toolkit.voices.opinion.opinion_groups` +
  :func:`consensus` + :func:`representative_statements`;
- red-dwarf (PyPI ``red-dwarf``, the Python port of Polis' maths):
  ``reddwarf.implementations.polis.run_pipeline`` (PCA, k-means with k 2..5 by
  silhouette, consensus, group-aware consensus, representative statements).

Prints seconds for each (best of ``--repeat``), the ratio ours / red-dwarf
(goal: <= 1, no slower) and whether the consensus agrees: the majority-consensus
lists and their values (goal: the same), and, given red-dwarf's own groups,
group-aware consensus and representative statements.

Run: ``.venv/bin/python bench/bench_opinion.py [--participants N] [--statements M]
[--share 0.3] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from hwb_toolkit.voices.opinion import opinion_groups
from hwb_toolkit.voices.statements import consensus, representative_statements

GOAL_RATIO = 1.0


def make_votes(
    n_participants: int, n_statements: int, share: float, seed: int = 2026, n_groups: int = 4
) -> pd.DataFrame:
    """Canonical votes (participant, item, vote) of a poll with planted opinion groups."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n_participants)
    # Per group and statement: probability of agreeing among non-passing votes.
    lean = rng.beta(0.6, 0.6, size=(n_groups, n_statements))
    lean[:, :5] = 0.95  # everybody agrees
    lean[:, 5:10] = 0.05  # everybody disagrees
    pass_rate = rng.uniform(0.05, 0.35, n_statements)
    voted = rng.random((n_participants, n_statements)) < share
    p_agree = lean[group]
    draw = rng.random((n_participants, n_statements))
    passed = rng.random((n_participants, n_statements)) < pass_rate
    vote = np.where(passed, 0.0, np.where(draw < p_agree, 1.0, -1.0))
    rows, cols = np.nonzero(voted)
    return pd.DataFrame(
        {
            "participant": pd.array([f"p{r:05d}" for r in rows], dtype="string"),
            "item": pd.array([str(c) for c in cols], dtype="string"),
            "vote": vote[rows, cols],
            "kind": "agree_disagree",
        }
    )


def run_ours(votes: pd.DataFrame):
    found = opinion_groups(votes, seed=0)
    cons = consensus(votes, found.groups)
    reps = representative_statements(votes, found.groups)
    return found, cons, reps


def reddwarf_votes(votes: pd.DataFrame) -> list[dict]:
    return [
        {"participant_id": int(p[1:]), "statement_id": int(i), "vote": int(v), "modified": 0}
        for p, i, v in zip(votes["participant"], votes["item"], votes["vote"], strict=True)
    ]


def run_reddwarf(records: list[dict]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # red-dwarf's pydantic models warn on import
        from reddwarf.implementations.polis import run_pipeline

        return run_pipeline(votes=records, random_state=0)


def best_of(repeat: int, fn, *args):
    seconds, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        seconds.append(time.perf_counter() - start)
    return min(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=500)
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    votes = make_votes(args.participants, args.statements, args.share)
    print(
        f"votes: {len(votes):,} ({args.participants:,} participants x {args.statements} "
        f"statements, {len(votes) / (args.participants * args.statements):.1%} voted)"
    )
    records = reddwarf_votes(votes)  # conversion is outside red-dwarf's timing

    ours_s, (found, cons, reps) = best_of(args.repeat, run_ours, votes)
    red_s, red = best_of(args.repeat, run_reddwarf, records)
    ratio = ours_s / red_s
    print(f"ours      opinion_groups + consensus + representative_statements: {ours_s:7.3f} s")
    print(f"red-dwarf run_pipeline (PCA, k-means, consensus, repness):      {red_s:7.3f} s")
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"ratio ours / red-dwarf: {ratio:.2f} (goal <= {GOAL_RATIO:.0f}: {verdict})")
    print(
        f"groups: ours k={found.k} (silhouette {found.silhouette:.3f}, "
        f"{len(found.groups):,} grouped); red-dwarf k={len(set(red.clusterer.labels_))}"
    )

    # Majority consensus does not depend on the grouping: it must be identical.
    same_lists = True
    max_diff = 0.0
    for direction in ("agree", "disagree"):
        theirs = red.consensus[direction]
        mine = cons.table[cons.table["direction"] == direction]
        same_lists &= [str(s["tid"]) for s in theirs] == list(mine["item"])
        for s, (_, row) in zip(theirs, mine.iterrows(), strict=False):
            same_lists &= (s["n-success"], s["n-trials"]) == (row["n_success"], row["n_trials"])
            for key, column in (("p-success", "p_success"), ("p-test", "p_test")):
                max_diff = max(max_diff, abs(s[key] - row[column]))
    print(
        f"consensus agree/disagree lists and counts identical: {same_lists}; "
        f"largest difference in p-success/p-test: {max_diff:.1e}"
    )

    # Given red-dwarf's own groups, group-aware consensus and repness must agree too.
    labels = red.participants_df.loc[red.participants_df["to_cluster"], "cluster_id"]
    their_groups = pd.Series(
        labels.astype(int).to_numpy(), index=[f"p{int(p):05d}" for p in labels.index]
    )
    cons_rd = consensus(votes, their_groups)
    gac = pd.Series(red.group_aware_consensus["agree"])
    gac.index = gac.index.astype(str)
    gac_diff = float((cons_rd.group_informed - gac.reindex(cons_rd.group_informed.index)).abs().max())
    print(f"group-aware consensus with red-dwarf's groups, largest difference: {gac_diff:.1e}")
    shared = found.groups.index.intersection(their_groups.index)
    agreement = adjusted_rand_score(found.groups[shared], their_groups[shared])
    print(f"groups, ours vs red-dwarf's: adjusted Rand index {agreement:.3f}")
    reps_rd = representative_statements(votes, their_groups)
    same_reps = all(
        reps_rd[g] == [(str(s["tid"]), s["repful-for"]) for s in red.repness[g]]
        for g in red.repness
    )
    print(f"representative statements with red-dwarf's groups identical: {same_reps}")
    print(f"(ours found {sum(len(v) for v in reps.values())} representative statements)")


if __name__ == "__main__":
    main()

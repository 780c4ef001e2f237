"""Benchmark: find_themes on 10,000 contributions (seconds and peak memory).

The contributions are generated from a seeded vocabulary of workshop-like
sentences about twelve health and wellbeing topics, a quarter of them matching
a strategy taxonomy and the rest left for discovery, with 2% Polis-style meta
statements. Run: ``.venv/bin/python bench/bench_themes.py [n]``.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from hwb_toolkit.voices.themes import find_themes

TOPICS = {
    "buses": ["bus", "buses", "fares", "timetable", "route", "stops", "evening", "hospital"],
    "housing": ["housing", "damp", "mould", "landlords", "rent", "repairs", "overcrowded", "cold"],
    "walking": ["walking", "paths", "pavements", "benches", "lighting", "park", "routes", "safe"],
    "cycling": ["cycling", "bike", "lanes", "racks", "traffic", "school", "helmets", "repair"],
    "food": ["food", "cooking", "fruit", "vegetables", "takeaways", "prices", "markets", "meals"],
    "loneliness": ["lonely", "isolated", "friends", "befriending", "widowed", "visits", "company"],
    "mental": ["anxiety", "stress", "counselling", "waiting", "talking", "therapy", "support"],
    "jobs": ["jobs", "wages", "employers", "shifts", "training", "apprenticeships", "zero"],
    "young": ["youth", "clubs", "teenagers", "activities", "holidays", "sports", "centres"],
    "carers": ["carers", "respite", "breaks", "caring", "dementia", "allowance", "tired"],
    "gp": ["appointments", "gp", "surgery", "phone", "receptionist", "online", "booking"],
    "money": ["debt", "energy", "bills", "benefits", "advice", "heating", "budget", "credit"],
}
FILLERS = ["we need", "there should be", "people want", "it would help to have", "please fix",
           "more", "better", "cheaper", "in our area", "for families", "near us", "every week"]
META = ["I am over 55", "I live in a town", "I am a woman", "I work for the NHS"]
TAXONOMY = {
    "walking-cycling": ["walk", "cycle", "bike", "path", "pavement"],
    "healthy-food": ["food", "cooking", "vegetable", "fruit"],
    "loneliness": ["lonely", "isolated", "befriending"],
}
SECTORS = ["council", "nhs", "vcse", "business", "resident", "other"]


def make_contributions(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    texts, kinds = [], []
    for _ in range(n):
        if rng.random() < 0.02:
            texts.append(str(rng.choice(META)))
            kinds.append("statement")
            continue
        words = TOPICS[topics[rng.integers(len(topics))]]
        chosen = rng.choice(words, size=rng.integers(3, 7))
        filler = rng.choice(FILLERS, size=2)
        texts.append(f"{filler[0].capitalize()} {' '.join(chosen)} {filler[1]}.")
        kinds.append("post_it" if rng.random() < 0.7 else "statement")
    return pd.DataFrame({
        "contribution_id": [f"c{i}" for i in range(n)],
        "kind": kinds,
        "text": texts,
        "sector": rng.choice(SECTORS, size=n),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="number of contributions")
    n = parser.parse_args().n
    contributions = make_contributions(n)
    find_themes(contributions.head(200), TAXONOMY)  # warm imports

    start = time.perf_counter()
    result = find_themes(contributions, TAXONOMY, seed=0)
    seconds = time.perf_counter() - start

    tracemalloc.start()
    find_themes(contributions, TAXONOMY, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    origins = result.assignments["origin"].value_counts().to_dict()
    print(f"find_themes on {n:,} contributions: {seconds:.2f} s")
    print(f"peak traced memory during find_themes: {peak / 2**20:.1f} MiB; process max RSS {max_rss:.0f} MiB")
    print(f"themes: {len(result.themes)} ({(result.themes['origin'] == 'discovered').sum()} discovered); "
          f"assignments by origin: {origins}; meta statements: {len(result.meta_statements)}")


if __name__ == "__main__":
    main()

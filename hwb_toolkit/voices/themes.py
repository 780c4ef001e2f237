"""What people said: contributions sorted into the strategy's themes and newly found ones.

:func:`find_themes` works in three passes over the canonical contributions
table, all pure and deterministic:

1. Meta statements (poll statements in which participants describe themselves,
   "I am over 55", "I live in a town", "My ethnicity is ...") are flagged and set
   aside: in Polis they sort voters into demographic groups and say nothing about
   the topic, so they must not become a theme.
2. Each contribution is tagged with the strategy theme whose keywords it uses
   most (whole words, any case, simple plurals and verb forms: ``walk`` matches
   "walks", "walking", "walked"; ``cycle`` matches "cycling"). A theme already
   written in the ``theme`` column (a facilitator's cluster of post-its) is kept.
3. What is left is clustered into new themes with TF-IDF and non-negative
   matrix factorisation (scikit-learn; no model download, same result for the
   same ``seed``), each labelled by its top terms.

Every theme carries its size, the sectors its contributions came from and
representative quotes: verbatim texts with their contribution ids, the ones
closest to the theme's centre (cosine similarity in TF-IDF space).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from hwb_toolkit.errors import InputError

#: Origins of a theme (the ``origin`` column of :attr:`ThemeResult.themes`).
STRATEGY, GIVEN, DISCOVERED = "strategy", "given", "discovered"
#: How a contribution got its theme (the ``origin`` column of :attr:`ThemeResult.assignments`).
BY_KEYWORD, BY_GIVEN, BY_DISCOVERY, META, UNTHEMED = (
    "keyword", "given", "discovered", "meta", "unthemed",
)

_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"  # words of two or more letters, no numbers
_MAX_FEATURES = 20000
_TOP_TERMS = 8

# --- meta statements -----------------------------------------------------------
_SELF_DESCRIPTION = re.compile(
    r"""^\s*(?:
        i\s+am\b | i\s+identify\s+as\b | i\s+consider\s+myself\b
      | i\s+(?:live|work|worked|study|grew\s+up|was\s+born|voted|vote|can\s+speak|speak
              |access|own|rent|use|used|care\s+for|have|had|do|did|receive|drive)\b
      | my\s+(?:age|gender|sex|ethnicity|religion|faith|postcode|household|income|job
                |occupation|employment|first\s+language|disability|sexuality)\b
      | (?:are|do|have|did)\s+you\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_FIRST_LANGUAGE = re.compile(r"\bis\s+my\s+(?:first|main|native)\s+language\b", re.IGNORECASE)
# Words of judgement: a first-person sentence holding one is an opinion, not a
# description of the speaker ("I am opposed to ...", "I think ...").
_OPINION = re.compile(
    r"\b(?:should|must|need|needs|needed|ought|think|thinks|believe|feel|feels|agree|disagree"
    r"|would|will|could|better|worse|oppose|opposed|support|supports|favour|favor|against"
    r"|want|wants|because|hope|worried|worry|concerned|happy|unhappy|sure|like|love|hate"
    r"|trust|fair|unfair|good|bad|important|best|worst|right|wrong|why|realise|realize"
    r"|advocate|advocated)\b",
    re.IGNORECASE,
)
_META_MAX_WORDS = 30


def is_meta_statement(texts: pd.Series) -> pd.Series:
    """True for texts in which the speaker describes themself rather than the topic.

    Short first-person descriptions ("I am 55 years of age or older", "I live in
    a town", "I voted to Leave.", "I identify as female", "My ethnicity is
    Arab.", "English is my first language.") and questions to participants
    ("Are you between 15 and 19 years old?") are meta; sentences holding a word
    of judgement ("I think ...", "I am opposed to ...", "... should ...") are
    not. Text in brackets is ignored when looking for those words.
    """
    text = texts.fillna("").astype(str).str.replace(r"’", "'", regex=False)
    text = text.str.replace(r"\bI'm\b", "I am", regex=True).str.replace(r"\bI've\b", "I have", regex=True)
    without_brackets = text.str.replace(r"\([^)]*\)", " ", regex=True)
    described = text.str.contains(_SELF_DESCRIPTION) | text.str.contains(_FIRST_LANGUAGE)
    short = without_brackets.str.split().str.len() <= _META_MAX_WORDS
    opinion = without_brackets.str.contains(_OPINION)
    return (described & short & ~opinion).astype(bool)


# --- keywords --------------------------------------------------------------------
def _keyword_pattern(keyword: str) -> str:
    """Regex for one keyword with simple plurals and verb forms ("walk" -> walks, walking)."""
    words = keyword.strip().casefold().split()
    if not words:
        return ""
    *head, last = words
    prefix = "".join(re.escape(word) + r"[\s-]+" for word in head)
    escaped = re.escape(last)
    forms = [escaped + r"(?:s|es|ed|ing|er|ers|'s)?"]
    if last.endswith("e") and len(last) > 2:
        forms.append(re.escape(last[:-1]) + r"(?:ed|ing|er|ers)")
    if last.endswith("y") and len(last) > 2 and last[-2] not in "aeiou":
        forms.append(re.escape(last[:-1]) + r"(?:ies|ied)")
    if re.search(r"[^aeiou][aeiou][bdgklmnprt]$", last):
        forms.append(escaped + re.escape(last[-1]) + r"(?:ed|ing|er|ers)")
    return prefix + "(?:" + "|".join(forms) + ")"


def keyword_regex(keywords: list[str]) -> re.Pattern | None:
    """One case-insensitive, whole-word regex matching any of ``keywords`` (see :func:`find_themes`)."""
    parts = [_keyword_pattern(keyword) for keyword in keywords if str(keyword).strip()]
    parts = [part for part in parts if part]
    if not parts:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])", re.IGNORECASE)


def _taxonomy_and_labels(taxonomy) -> tuple[dict[str, list[str]], dict[str, str]]:
    if taxonomy is None:
        return {}, {}
    labels: dict[str, str] = {}
    if hasattr(taxonomy, "taxonomy"):
        for theme in getattr(taxonomy, "themes", []) or []:
            theme_id, title = getattr(theme, "id", None), getattr(theme, "title", None)
            if theme_id is not None and title:
                labels[str(theme_id)] = str(title)
        taxonomy = taxonomy.taxonomy()
    if not isinstance(taxonomy, Mapping):
        raise InputError("taxonomy must map theme ids to lists of keywords")
    keywords = {
        str(theme): [keywords] if isinstance(keywords, str) else [str(k) for k in keywords]
        for theme, keywords in taxonomy.items()
    }
    for theme in keywords:
        labels.setdefault(theme, theme.replace("-", " ").replace("_", " ").capitalize())
    return keywords, labels


# --- result ------------------------------------------------------------------------
@dataclass(frozen=True)
class ThemeResult:
    """What :func:`find_themes` found.

    ``assignments``: one row per contribution (input order) with
    ``contribution_id``, ``theme`` (theme id, missing for meta statements and
    for contributions no theme fits), ``origin`` ("keyword", "given",
    "discovered", "meta" or "unthemed") and ``membership`` (cosine similarity
    0-1 between the contribution and its theme's centre in TF-IDF space).

    ``themes``: one row per theme: ``theme`` (id; discovered themes are
    ``discovered-1``, ``discovered-2``, ... largest first), ``label``, ``origin``
    ("strategy", "given" or "discovered"), ``size`` (contributions), ``top_terms``
    (list of words), ``sectors`` (dict sector -> contributions; "unknown" when
    not recorded), ``quotes`` (list of ``(contribution_id, verbatim text)``, most
    representative first). Strategy themes nobody mentioned are listed with size 0.

    ``meta_statements``: contribution ids flagged as meta statements.
    """

    assignments: pd.DataFrame
    themes: pd.DataFrame
    meta_statements: list[str] = field(default_factory=list)

    def label_contributions(self, contributions: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``contributions`` with the ``theme`` column filled from :attr:`assignments`."""
        themes = self.assignments.set_index("contribution_id")["theme"]
        labelled = contributions.copy()
        labelled["theme"] = (
            labelled["contribution_id"].astype(str).map(themes).astype("str")
        )
        return labelled


def _auto_n_themes(n_documents: int) -> int:
    """About one theme per 8 x k^2 contributions, between 2 and 8."""
    return int(np.clip(np.ceil(np.sqrt(n_documents / 8)), 2, 8))


_BASE_ANALYSER = TfidfVectorizer(stop_words="english", token_pattern=_TOKEN_PATTERN).build_analyzer()


def _tokenise(texts: pd.Series) -> list[list[str]]:
    """Lower-case words without English stop words, plurals folded onto their singular.

    A plural is folded only when its singular occurs in the same texts ("buses"
    -> "bus" when "bus" is used, "cities" -> "city"), so no made-up stems
    ("caus") appear among a theme's top terms.
    """
    documents = [_BASE_ANALYSER(text) for text in texts]
    vocabulary = {token for document in documents for token in document}
    fold: dict[str, str] = {}
    for token in vocabulary:
        if len(token) <= 3 or not token.endswith("s") or token.endswith("ss"):
            continue
        candidates = [token[:-3] + "y"] if token.endswith("ies") else []
        candidates += [token[:-2]] if token.endswith("es") else []
        candidates.append(token[:-1])
        for candidate in candidates:
            if candidate in vocabulary:
                fold[token] = candidate
                break
    if not fold:
        return documents
    return [[fold.get(token, token) for token in document] for document in documents]


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _vectoriser(n_documents: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=_identity,
        sublinear_tf=True,
        min_df=2 if n_documents >= 50 else 1,
        max_df=0.95 if n_documents >= 50 else 1.0,
        max_features=_MAX_FEATURES,
        dtype=np.float64,
    )


def _centre_similarity(matrix: sparse.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row to the mean of the rows sharing its label (-1 = none)."""
    similarity = np.zeros(matrix.shape[0])
    valid = labels >= 0
    if not valid.any():
        return similarity
    codes, uniques = pd.factorize(labels[valid])
    indicator = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.flatnonzero(valid))),
        shape=(len(uniques), matrix.shape[0]),
    )
    centres = np.asarray((indicator @ matrix).todense())
    norms = np.linalg.norm(centres, axis=1, keepdims=True)
    centres = np.divide(centres, norms, out=np.zeros_like(centres), where=norms > 0)
    rows = matrix[np.flatnonzero(valid)]
    similarity[valid] = np.asarray(rows.multiply(centres[codes]).sum(axis=1)).ravel()
    return similarity


def _top_terms(weights: np.ndarray, vocabulary: np.ndarray, n: int = _TOP_TERMS) -> list[str]:
    order = np.lexsort((vocabulary, -weights))  # heaviest first, ties alphabetical
    return [str(vocabulary[i]) for i in order[:n] if weights[i] > 0]


def find_themes(
    contributions: pd.DataFrame,
    taxonomy=None,
    n_themes: int | None = None,
    *,
    seed: int = 0,
    n_quotes: int = 3,
) -> ThemeResult:
    """Sort contributions into strategy themes and discover further themes in the rest.

    ``contributions``: the canonical table (needs ``contribution_id`` and
    ``text``; ``kind``, ``sector`` and ``theme`` are used when present).
    ``taxonomy``: ``{theme_id: [keywords]}`` or an object with ``.taxonomy()``
    returning that (a :class:`~hwb_toolkit.system.strategy.Strategy`, whose
    theme titles then become the labels). ``n_themes``: how many themes to
    discover among the contributions no strategy theme fits (0 = none); by
    default chosen from their number (2 to 8). ``seed`` fixes the factorisation,
    so the same input always gives the same themes. ``n_quotes``: quotes kept
    per theme (identical texts are quoted once).

    Keyword matching is whole-word and case-insensitive with simple plurals and
    verb forms; a contribution matching several themes goes to the one whose
    keywords it uses most (ties: the first in the taxonomy). Meta statements
    (self-descriptions among poll statements, see :func:`is_meta_statement`)
    are only looked for among contributions of kind ``statement``.
    """
    for column in ("contribution_id", "text"):
        if column not in contributions.columns:
            raise InputError(f"the contributions table lacks column '{column}'", column=column)
    if n_themes is not None and n_themes < 0:
        raise InputError("n_themes must be 0 or more")
    ids = contributions["contribution_id"].astype(str).reset_index(drop=True)
    if ids.duplicated().any():
        raise InputError(
            f"contribution id {ids[ids.duplicated()].iloc[0]!r} appears twice", column="contribution_id"
        )
    texts = contributions["text"].reset_index(drop=True)
    clean = texts.fillna("").astype(str)
    n = len(clean)
    keywords, labels = _taxonomy_and_labels(taxonomy)

    if "kind" in contributions.columns:
        statements = contributions["kind"].reset_index(drop=True).astype(str).eq("statement")
    else:
        statements = pd.Series(False, index=ids.index)
    meta = (statements & is_meta_statement(clean)).to_numpy()

    theme = pd.Series(np.nan, index=ids.index, dtype="object")
    origin = np.full(n, UNTHEMED, dtype=object)
    origin[meta] = META
    if "theme" in contributions.columns:
        given = contributions["theme"].reset_index(drop=True).astype("string").str.strip()
        has_given = given.notna().to_numpy() & (given.fillna("") != "").to_numpy() & ~meta
        theme[has_given] = given[has_given].astype(str)
        origin[has_given] = BY_GIVEN

    open_rows = (origin == UNTHEMED)
    if keywords and open_rows.any():
        theme_ids = list(keywords)
        hits = np.zeros((n, len(theme_ids)), dtype=np.int64)
        candidate = clean[open_rows].tolist()
        for column, theme_id in enumerate(theme_ids):
            pattern = keyword_regex(keywords[theme_id])
            if pattern is not None:
                # Counted with the compiled pattern: pandas' Series.str.count re-parses a
                # pattern it cannot hand to Arrow (lookarounds) on every call.
                hits[open_rows, column] = [
                    sum(1 for _ in pattern.finditer(text)) for text in candidate
                ]
        best = hits.argmax(axis=1)  # argmax takes the first of equal counts: taxonomy order
        matched = open_rows & (hits.max(axis=1) > 0)
        theme[matched] = np.asarray(theme_ids, dtype=object)[best[matched]]
        origin[matched] = BY_KEYWORD

    # One TF-IDF space for every contribution that is not meta, for centres and quotes.
    usable = ~meta & (clean.str.strip() != "").to_numpy()
    n_usable = int(usable.sum())
    vocabulary = np.array([], dtype=object)
    matrix = sparse.csr_matrix((n, 0))
    tokens = {}
    if n_usable:
        tokens = dict(zip(np.flatnonzero(usable), _tokenise(clean[usable]), strict=True))
        vectoriser = _vectoriser(n_usable)
        try:
            matrix_usable = vectoriser.fit_transform(list(tokens.values()))
            vocabulary = vectoriser.get_feature_names_out()
            # Put the rows back in input order, with empty rows for the rest.
            index = np.flatnonzero(usable)
            expand = sparse.csr_matrix(
                (np.ones(len(index)), (index, np.arange(len(index)))), shape=(n, len(index))
            )
            matrix = (expand @ matrix_usable).tocsr()
        except ValueError:  # every word is a stop word: nothing to measure
            matrix = sparse.csr_matrix((n, 0))

    # Discovery among what is still unthemed.
    discovered_terms: dict[str, list[str]] = {}
    leftover = np.flatnonzero((origin == UNTHEMED) & usable)
    k = _auto_n_themes(len(leftover)) if n_themes is None else int(n_themes)
    if k > 0 and len(leftover) >= max(2 * k, 5):
        sub_vectoriser = _vectoriser(len(leftover))
        try:
            sub_matrix = sub_vectoriser.fit_transform([tokens[i] for i in leftover])
        except ValueError:
            sub_matrix = None
        if sub_matrix is not None and sub_matrix.shape[1] >= k:
            model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
            weights = model.fit_transform(sub_matrix)
            has_weight = weights.max(axis=1) > 0
            component = np.where(has_weight, weights.argmax(axis=1), -1)
            sizes = np.bincount(component[component >= 0], minlength=k)
            sub_vocabulary = sub_vectoriser.get_feature_names_out()
            terms = [_top_terms(model.components_[c], sub_vocabulary) for c in range(k)]
            # Number discovered themes by size (largest first), ties by their top terms.
            order = sorted(
                (c for c in range(k) if sizes[c] > 0), key=lambda c: (-sizes[c], terms[c])
            )
            new_id = {c: f"{DISCOVERED}-{number}" for number, c in enumerate(order, start=1)}
            for c in order:
                discovered_terms[new_id[c]] = terms[c]
            assigned = component >= 0
            rows = leftover[assigned]
            theme[rows] = [new_id[c] for c in component[assigned]]
            origin[rows] = BY_DISCOVERY

    themed = theme.notna().to_numpy()
    theme_codes = np.full(n, -1)
    theme_codes[themed] = pd.factorize(theme[themed])[0]
    membership = _centre_similarity(matrix, theme_codes) if matrix.shape[1] else np.zeros(n)
    membership[~themed] = np.nan
    assignments = pd.DataFrame({
        "contribution_id": ids.astype("str"),
        "theme": theme.astype("str"),
        "origin": pd.Series(origin, dtype="str"),
        "membership": membership,
    })

    sectors = (
        contributions["sector"].reset_index(drop=True).astype("string").fillna("unknown").tolist()
        if "sector" in contributions.columns
        else ["unknown"] * n
    )
    # Each theme's members as (position, membership, sector), in contribution order: plain
    # lists, because sorting and counting a few rows per theme cost more in pandas.
    members_of: dict[str, list[tuple[int, float, str]]] = {}
    for position in np.flatnonzero(themed).tolist():
        members_of.setdefault(theme.iat[position], []).append(
            (position, float(membership[position]), sectors[position])
        )
    texts_list = texts.tolist()
    ids_list = ids.tolist()
    theme_rows: list[dict] = []
    given_ids = sorted(set(theme[origin == BY_GIVEN]) - set(keywords))
    catalogue = (
        [(t, labels[t], STRATEGY) for t in keywords]
        + [(t, t.replace("-", " ").capitalize(), GIVEN) for t in given_ids]
        + [(t, ", ".join(discovered_terms[t][:3]), DISCOVERED) for t in discovered_terms]
    )
    for theme_id, label, theme_origin in catalogue:
        members = members_of.get(theme_id)
        if not members:
            theme_rows.append({
                "theme": theme_id, "label": label, "origin": theme_origin, "size": 0,
                "top_terms": [], "sectors": {}, "quotes": [],
            })
            continue
        # Quotes: the members closest to the theme's centre first (ties: earliest).
        ranked = sorted(members, key=lambda member: (-member[1], member[0]))
        quotes: list[tuple[str, str]] = []
        seen: set[str] = set()
        for position, _, _ in ranked:
            quote = str(texts_list[position])
            key = " ".join(quote.split()).casefold()
            if key in seen:
                continue
            seen.add(key)
            quotes.append((ids_list[position], quote))
            if len(quotes) == n_quotes:
                break
        if theme_origin == DISCOVERED:
            top = discovered_terms[theme_id]
        elif matrix.shape[1]:
            positions = [position for position, _, _ in members]
            centre = np.asarray(matrix[positions].sum(axis=0)).ravel()
            top = _top_terms(centre, vocabulary)
        else:
            top = []
        # Sectors by number of members, most first (ties: by name).
        counts = sorted(Counter(sector for _, _, sector in members).items())
        counts.sort(key=lambda pair: -pair[1])
        theme_rows.append({
            "theme": theme_id, "label": label, "origin": theme_origin, "size": len(members),
            "top_terms": top, "sectors": {str(s): int(c) for s, c in counts},
            "quotes": quotes,
        })
    themes = pd.DataFrame(
        theme_rows, columns=["theme", "label", "origin", "size", "top_terms", "sectors", "quotes"]
    )
    themes["size"] = themes["size"].astype("int64")
    return ThemeResult(
        assignments=assignments,
        themes=themes,
        meta_statements=ids[meta].tolist(),
    )

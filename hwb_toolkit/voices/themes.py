"""What people said: contributions sorted into the strategy's themes and newly found ones.

:func:`find_themes` works in three passes over the canonical contributions
table, all pure and deterministic:

1. Meta statements (poll statements in which participants describe themselves,
   "I am over 55", "I live in a town", "My ethnicity is ...") are flagged and set
   aside: in Polis they sort voters into demographic groups and say nothing about
   the topic, so they must not become a theme.
2. Each contribution is tagged with the strategy theme whose keywords it uses
   most: keywords and phrases match as whole words in any case, with their plural
   (``bus`` matches "buses", ``city`` "cities", ``green space`` "green spaces"),
   never inside another word or as another word ("park" does not match "parked",
   "balance" not "balanced": a strategy lists the forms it means). A contribution
   that uses as many keywords of two or more themes sits under each of them
   ("Community kitchen: cook together, eat together. Tackles loneliness too" is
   about cooking and about loneliness); its first such theme in the taxonomy is
   its main one (``theme``), all of them are ``themes``. A theme already written in
   the ``theme`` column (a facilitator's cluster of post-its) is kept.
3. What is left is clustered into new themes with TF-IDF and non-negative
   matrix factorisation (scikit-learn; no model download, same result for the
   same ``seed``). A new theme is named by its most representative phrase: the
   word or phrase of up to three words that the most of its contributions use and
   the rest of what partners said uses least ("Damp and mould"), as written in the
   contribution closest to the theme's centre. A new theme holds only the
   contributions that use its phrase, so its size counts what is about it; what
   the factorisation grouped but no phrase names goes to one last group,
   ``discovered-other``, "Other things partners said", rather than swell a theme it
   is not about.

Every theme carries its size (contributions under it, counting one that sits under
two themes in each), the sectors its contributions came from and representative
quotes: verbatim texts with their contribution ids, the ones closest to the
theme's centre (cosine similarity in TF-IDF space); a discovered theme's first
quote uses its name's phrase.
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
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from hwb_toolkit.errors import InputError

#: Origins of a theme (the ``origin`` column of :attr:`ThemeResult.themes`).
STRATEGY, GIVEN, DISCOVERED = "strategy", "given", "discovered"
#: The discovered group of what partners said that no phrase names (see :func:`find_themes`).
OTHER_THEME, OTHER_LABEL = f"{DISCOVERED}-other", "Other things partners said"
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
    """Regex for one keyword or phrase as whole words, its last word also in the plural
    ("bus" -> buses, "city" -> cities, "green space" -> green spaces) or possessive."""
    words = keyword.strip().casefold().split()
    if not words:
        return ""
    *head, last = words
    prefix = "".join(re.escape(word) + r"[\s-]+" for word in head)
    escaped = re.escape(last)
    forms = [escaped + r"(?:s|es|'s|’s)?"]
    if last.endswith("y") and len(last) > 2 and last[-2] not in "aeiou":
        forms.append(re.escape(last[:-1]) + r"ies")
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
    ``contribution_id``, ``theme`` (its main theme id, missing for meta statements
    and for contributions no theme fits), ``themes`` (list of every theme it sits
    under: the main one first, then any other whose keywords it uses as much),
    ``origin`` ("keyword", "given", "discovered", "meta" or "unthemed") and
    ``membership`` (cosine similarity 0-1 between the contribution and its main
    theme's centre in TF-IDF space).

    ``themes``: one row per theme: ``theme`` (id; discovered themes are
    ``discovered-1``, ``discovered-2``, ... largest first), ``label``, ``origin``
    ("strategy", "given" or "discovered"), ``size`` (contributions), ``top_terms``
    (list of words), ``sectors`` (dict sector -> contributions; "unknown" when
    not recorded), ``quotes`` (list of ``(contribution_id, verbatim text)``, most
    representative first). ``size`` and ``sectors`` count every contribution under
    the theme, so a contribution under two themes counts in each. Strategy themes
    nobody mentioned are listed with size 0.

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


def _memberships(matrix: sparse.csr_matrix, members_of: dict) -> dict[tuple[str, int], float]:
    """Cosine similarity of each theme's members to that theme's centre, by (theme, position)."""
    found: dict[tuple[str, int], float] = {}
    for theme_id, members in members_of.items():
        positions = [position for position, _, _ in members]
        rows = matrix[positions]
        centre = np.asarray(rows.sum(axis=0)).ravel()
        norm = np.linalg.norm(centre)
        if norm == 0:
            continue
        similarity = np.asarray(rows @ (centre / norm)).ravel()
        found.update({(theme_id, p): float(v) for p, v in zip(positions, similarity, strict=True)})
    return found


# --- naming a discovered theme ---------------------------------------------------
_PHRASE_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_PHRASE_STOP = frozenset(ENGLISH_STOP_WORDS) | {"don't", "can't", "won't", "isn't", "it's", "i'm", "i've"}
_MAX_PHRASE_WORDS = 3
#: Words too common to say what a group of contributions is about on their own.
_GENERIC_WORDS = frozenset(
    "day days time times year years week weeks month months thing things way ways lot lots "
    "people person work make makes need needs want wants good great really just like know "
    "think going get got new old bit place places area areas stuff everyone everything "
    "someone something help use used long add ask asked say said come go keep let see tell "
    "told try idea ideas right little big best better start started stop feel".split()
)


def _phrases(text: str) -> set[tuple[str, ...]]:
    """The words and phrases of up to three words in ``text`` (lower case) that neither start
    nor end with a stop word ("damp and mould", "online", not "and mould")."""
    words = [word.casefold().replace("’", "'") for word in _PHRASE_WORD.findall(text)]
    found = set()
    for size in range(1, _MAX_PHRASE_WORDS + 1):
        for start in range(len(words) - size + 1):
            gram = tuple(words[start:start + size])
            if gram[0] in _PHRASE_STOP or gram[-1] in _PHRASE_STOP or len(gram[-1]) < 3:
                continue
            found.add(gram)
    return found


def _phrase_regex(phrase: str) -> re.Pattern:
    """A phrase as whole words, its last word also in the plural (as keywords match)."""
    return re.compile(r"(?<!\w)" + _keyword_pattern(phrase).replace(r"[\s-]+", r"\W+") + r"(?!\w)",
                      re.IGNORECASE)


def _uses_phrase(text: str, phrase: str) -> bool:
    return bool(_phrase_regex(phrase).search(str(text)))


def _representative_phrase(ranked: list[int], texts: list[str], in_all: Counter, n_all: int) -> str:
    """A discovered group's name: the phrase its members (positions in ``texts``, most
    representative first) use most and everything partners said uses least (``in_all``:
    how many of the ``n_all`` usable texts use each phrase, as :func:`_phrases` finds
    them): members using it x log inverse document frequency,
    longer phrases preferred; a word as common as "day" or "people" never names a group on
    its own. Written as in the most representative member using it, with a capital first
    letter; "" when no phrase is shared widely enough (three members for one word, two for
    a longer phrase)."""
    if len(ranked) < 2:
        return ""
    in_group = Counter(gram for position in ranked for gram in _phrases(texts[position]))
    # One word names a group only when three or more use it; a longer phrase when two do.
    scored = [
        (count * np.log((n_all + 1) / (in_all[gram] + 1)) * (1 + 0.5 * (len(gram) - 1)), gram)
        for gram, count in in_group.items()
        if count >= (2 if len(gram) > 1 else 3) and not (len(gram) == 1 and gram[0] in _GENERIC_WORDS)
    ]
    if not scored:
        return ""
    best = min(scored, key=lambda pair: (-pair[0], -len(pair[1]), pair[1]))[1]
    wanted = " ".join(best)
    pattern = _phrase_regex(wanted)
    for position in ranked:
        found = pattern.search(texts[position])
        if found:
            written = found.group(0)
            return written[:1].upper() + written[1:]
    return wanted[:1].upper() + wanted[1:]


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

    Keyword matching is on whole words and phrases, case-insensitive, with plurals;
    a contribution goes to the theme whose keywords it uses most, and to each theme
    when several use as many (see the module docstring). Meta statements
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
    also: dict[int, list[str]] = {}  # position -> themes beside the main one (keyword ties)
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
        most = hits.max(axis=1)
        matched = open_rows & (most > 0)
        theme[matched] = np.asarray(theme_ids, dtype=object)[best[matched]]
        origin[matched] = BY_KEYWORD
        # Every theme whose keywords it uses as much as its main theme's (main theme first).
        for position in np.flatnonzero(matched & ((hits == most[:, None]).sum(axis=1) > 1)):
            also[position] = [theme_ids[c] for c in np.flatnonzero(hits[position] == most[position])
                              if c != best[position]]

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
    discovered_names: dict[str, str] = {}
    texts_list_all = clean.tolist()
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
            # Each group is named by its most representative phrase and keeps only the
            # contributions that use it: its size then counts what is about its name, not
            # everything left over. A group fewer than two keep is dropped.
            in_all = Counter(gram for text in clean[usable] for gram in _phrases(text))
            n_all = int(usable.sum())
            names: dict[int, str] = {}
            for c in range(k):
                rows = np.flatnonzero(component == c)
                rows = rows[np.argsort(-weights[rows, c], kind="stable")]
                name = _representative_phrase([leftover[row] for row in rows], texts_list_all, in_all, n_all)
                keep = np.array([bool(name) and _uses_phrase(texts_list_all[leftover[row]], name)
                                 for row in rows], dtype=bool)
                if keep.sum() < 2:
                    keep[:] = False
                component[rows[~keep]] = -1
                names[c] = name
            sizes = np.bincount(component[component >= 0], minlength=k)
            # Number discovered themes by size (largest first), ties by their top terms.
            order = sorted(
                (c for c in range(k) if sizes[c] > 0), key=lambda c: (-sizes[c], terms[c])
            )
            new_id = {c: f"{DISCOVERED}-{number}" for number, c in enumerate(order, start=1)}
            for c in order:
                discovered_terms[new_id[c]] = terms[c]
                discovered_names[new_id[c]] = names[c]
            assigned = component >= 0
            rows = leftover[assigned]
            theme[rows] = [new_id[c] for c in component[assigned]]
            origin[rows] = BY_DISCOVERY
            # What the factorisation grouped but no phrase names: one group, called what it is.
            rest = leftover[has_weight & ~assigned]
            if len(rest):
                theme[rest] = OTHER_THEME
                origin[rest] = BY_DISCOVERY
                discovered_terms[OTHER_THEME] = _top_terms(
                    np.asarray(sub_matrix[np.flatnonzero(has_weight & ~assigned)].sum(axis=0)).ravel(),
                    sub_vocabulary,
                )
                discovered_names[OTHER_THEME] = OTHER_LABEL

    themed = theme.notna().to_numpy()
    all_themes = [
        [theme.iat[position], *also.get(position, [])] if themed[position] else []
        for position in range(n)
    ]
    theme_codes = np.full(n, -1)
    theme_codes[themed] = pd.factorize(theme[themed])[0]
    membership = _centre_similarity(matrix, theme_codes) if matrix.shape[1] else np.zeros(n)
    membership[~themed] = np.nan
    assignments = pd.DataFrame({
        "contribution_id": ids.astype("str"),
        "theme": theme.astype("str"),
        "themes": pd.Series(all_themes, dtype="object"),
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
        for member_of in all_themes[position]:
            members_of.setdefault(member_of, []).append(
                (position, float(membership[position]), sectors[position])
            )
    if also:
        # A contribution's closeness to a second theme's centre, not to its main one's.
        memberships = _memberships(matrix, members_of) if matrix.shape[1] else {}
        for theme_id, members in members_of.items():
            members_of[theme_id] = [
                (position, memberships.get((theme_id, position), closeness), sector)
                for position, closeness, sector in members
            ]
    texts_list = texts.tolist()
    ids_list = ids.tolist()
    theme_rows: list[dict] = []
    given_ids = sorted(set(theme[origin == BY_GIVEN]) - set(keywords))
    phrases = discovered_names
    catalogue = (
        [(t, labels[t], STRATEGY) for t in keywords]
        + [(t, t.replace("-", " ").capitalize(), GIVEN) for t in given_ids]
        + [(t, phrases[t] or ", ".join(discovered_terms[t][:3]), DISCOVERED) for t in discovered_terms]
    )
    for theme_id, label, theme_origin in catalogue:
        members = members_of.get(theme_id)
        if not members:
            theme_rows.append({
                "theme": theme_id, "label": label, "origin": theme_origin, "size": 0,
                "top_terms": [], "sectors": {}, "quotes": [],
            })
            continue
        # Quotes: the members closest to the theme's centre first (ties: earliest); for a
        # discovered theme, first those that use the phrase it is named by.
        ranked = sorted(members, key=lambda member: (-member[1], member[0]))
        if theme_origin == DISCOVERED and phrases.get(theme_id):
            ranked.sort(key=lambda member: not _uses_phrase(texts_list[member[0]], phrases[theme_id]))
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

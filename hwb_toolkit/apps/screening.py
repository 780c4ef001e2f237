"""Screening: which contributions wait for a facilitator before anyone else sees them.

Role: a pure function used by the workshop page (and usable as the ``screen=``
callable of :meth:`hwb_toolkit.store.Store.add_contributions`). Open contribution
can hurt people, so a post-it that looks abusive or carries personal details is
held as "pending" until the facilitator approves or hides it. Screening only
*holds* a contribution; it never changes or deletes it, so a false alarm costs a
facilitator one click, while a miss can put someone's health on a public wall.
The rules therefore err on the side of holding.

Rules (each gives one plain-language reason, in this order):

- **email address**, **phone number**, **full postcode**: the patterns of
  :func:`hwb_toolkit.voices.mask_personal_details` (UK phone forms; full
  postcodes only: a district such as "NE4" identifies nobody).
- **abusive language**: a short list of insults, slurs and profanity
  (:data:`ABUSIVE_WORDS`, whole words, any case, simple plurals) and threats
  ("kill yourself", "hope you die", ...).
- **a named person's health**: a health condition (:data:`HEALTH_CONDITIONS`:
  mental and physical illness, disability, addiction, pregnancy) together with
  something that names a person:

  * a title and a capitalised name ("Mrs Patel", "Dr. Okafor");
  * a relation followed by a capitalised name ("my neighbour Jean", "her son Kyle");
  * a common first name (:data:`COMMON_FIRST_NAMES`), with or without a surname
    ("John Smith", "Dave");
  * any capitalised word (not a common word such as "Everyone" or "People")
    directly followed by "has", "is", "suffers from", "was diagnosed with" ...
    and the condition within a few words ("Kowalczyk has dementia").

  A condition without a person ("loneliness makes depression worse", "my mam
  has dementia") or a name without a condition ("Thanks to Jean for the
  soup") is not held.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from hwb_toolkit.privacy import EMAIL_MASK, PHONE_MASK, POSTCODE_MASK, mask_personal_details

#: The reasons :func:`needs_review` gives, as shown to the facilitator.
REASON_EMAIL = "contains an email address"
REASON_PHONE = "contains a phone number"
REASON_POSTCODE = "contains a full postcode"
REASON_ABUSE = "may contain abusive language"
REASON_HEALTH = "may name a person together with a health condition"
REASONS = (REASON_EMAIL, REASON_PHONE, REASON_POSTCODE, REASON_ABUSE, REASON_HEALTH)

#: Insults, slurs and profanity, matched as whole words in any case (a trailing "s"
#: or "es" is allowed). Kept short on purpose: anything it flags only waits for review.
ABUSIVE_WORDS = (
    # profanity
    "fuck", "fucking", "fucker", "fucked", "shit", "shite", "cunt", "bastard", "wanker",
    "twat", "prick", "bitch", "dickhead", "arsehole", "asshole", "bellend", "knobhead",
    "bollocks", "piss off",
    # insults aimed at people
    "idiot", "moron", "cretin", "scum", "scumbag", "scrounger", "parasite", "vermin",
    "lowlife", "degenerate", "subhuman",
    # slurs (disability, ethnicity, sexuality, gender identity, travellers)
    "retard", "retarded", "spastic", "spaz", "mong", "nutter", "loony", "psycho",
    "paki", "nigger", "nigga", "chink", "wog", "coon", "gyppo", "pikey", "kike",
    "faggot", "fag", "dyke", "tranny", "shemale", "poof",
)

_THREATS = (
    r"kill\s+(?:yo)?urself",
    r"kys",
    r"(?:hope|wish)\s+(?:you|he|she|they)\s+(?:die|dies|rot|rots)",
    r"should\s+be\s+(?:shot|hanged|killed|put\s+down|locked\s+up)",
    r"(?:i'?ll|i\s+will|gonna|going\s+to)\s+(?:kill|hurt|batter|smash|stab|find)\s+(?:you|him|her|them)",
    r"burn\s+(?:it|them|the\s+\w+)\s+down",
)

#: Health conditions (and disability, addiction, pregnancy): special-category data.
HEALTH_CONDITIONS = (
    "depression", "depressed", "anxiety", "panic attacks", "mental illness",
    "mental health problems", "mental health issues", "breakdown", "nervous breakdown",
    "bipolar", "schizophrenia", "schizophrenic", "psychosis", "psychotic", "ptsd", "ocd",
    "adhd", "autism", "autistic", "asperger's", "aspergers", "personality disorder",
    "eating disorder", "anorexia", "anorexic", "bulimia", "bulimic",
    "self-harm", "self harm", "self-harms", "self-harming", "self harming", "suicidal",
    "tried to kill", "attempted suicide", "overdose", "overdosed",
    "dementia", "alzheimer's", "alzheimers", "parkinson's", "parkinsons",
    "multiple sclerosis", "motor neurone disease", "epilepsy", "epileptic", "stroke",
    "cancer", "chemo", "chemotherapy", "terminal", "terminally ill", "leukaemia", "tumour",
    "hiv", "aids", "hepatitis", "std", "sti", "chlamydia", "herpes",
    "diabetes", "diabetic", "copd", "heart failure", "heart attack", "kidney failure",
    "dialysis", "long covid",
    "alcoholic", "alcoholism", "drink problem", "drinking problem", "drug problem",
    "addict", "addicted", "addiction", "heroin", "smackhead", "crackhead",
    "learning disability", "learning disabilities", "disabled", "wheelchair user",
    "blind", "deaf", "pregnant", "miscarriage", "abortion", "ivf", "sectioned",
)

#: Common first names in England and Wales (ONS baby-name lists across the decades).
COMMON_FIRST_NAMES = (
    "adam", "alan", "albert", "alex", "alice", "alison", "amanda", "amy", "andrew", "angela",
    "ann", "anne", "anthony", "barbara", "barry", "ben", "bernard", "beth", "betty", "bill",
    "billy", "bob", "brenda", "brian", "carl", "carol", "caroline", "catherine", "charlie",
    "charlotte", "chloe", "chris", "christine", "claire", "colin", "craig", "dan", "daniel",
    "darren", "dave", "david", "dawn", "dean", "debbie", "deborah", "denise", "derek", "diane",
    "donna", "doris", "dorothy", "ed", "edward", "eileen", "elaine", "elizabeth", "ellie",
    "emily", "emma", "eric", "fatima", "frank", "gary", "geoff", "george", "gillian", "gordon",
    "graham", "hannah", "harry", "heather", "helen", "ian", "irene", "jack", "jackie", "jacob",
    "james", "jamie", "jane", "janet", "jason", "jean", "jeff", "jennifer", "jenny", "jessica",
    "jim", "jimmy", "joan", "joe", "john", "jonathan", "joseph", "josh", "joyce", "julie",
    "karen", "kate", "katie", "keith", "kelly", "kevin", "kyle", "laura", "lee", "leanne",
    "lisa", "liam", "linda", "lucy", "lynn", "margaret", "maria", "mark", "martin", "mary",
    "matt", "matthew", "maureen", "michael", "michelle", "mick", "mike", "mohammed",
    "muhammad", "nancy", "natalie", "neil", "nicola", "nigel", "oliver", "olivia", "pam",
    "patricia", "paul", "pauline", "peter", "phil", "philip", "rachel", "ray", "rebecca",
    "richard", "rob", "robert", "ron", "ryan", "sally", "sam", "samantha", "sandra", "sarah",
    "scott", "sharon", "shirley", "simon", "sophie", "stephen", "steve", "stuart", "sue",
    "susan", "terry", "thomas", "tom", "tony", "tracey", "tracy", "vicky", "wayne", "william",
    "yusuf", "zainab", "zoe",
)

_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Doctor|Nurse|Councillor|Cllr|Auntie|Uncle|Nana|Grandad)\.?"
_RELATIONS = (
    r"(?:neighbour|neighbor|friend|mate|colleague|husband|wife|partner|boyfriend|girlfriend"
    r"|son|daughter|brother|sister|mum|mam|mom|mother|dad|father|nan|gran|grandma|grandad"
    r"|grandson|granddaughter|cousin|uncle|aunt|auntie|niece|nephew|carer|client|tenant"
    r"|pupil|patient|resident|lodger|stepson|stepdaughter)"
)
_LINKS = (
    r"(?:has|had|is|was|'s|has\s+got|got|gets|suffers\s+from|suffered\s+from|suffering\s+from"
    r"|was\s+diagnosed\s+with|is\s+diagnosed\s+with|diagnosed\s+with|lives\s+with|living\s+with"
    r"|struggles\s+with|struggling\s+with|is\s+on|went\s+into|is\s+in|died\s+of|died\s+from"
    r"|is\s+being\s+treated\s+for|cannot\s+cope\s+with|can't\s+cope\s+with)"
)
#: Capitalised words that are not names of people, even directly before "has" or "is".
_NOT_NAMES = frozenset(
    {
        "everyone", "everybody", "someone", "somebody", "anyone", "anybody", "nobody",
        "people", "person", "folk", "folks", "kids", "children", "child", "parents", "parent",
        "carers", "carer", "staff", "residents", "resident", "families", "family", "lots",
        "loads", "men", "women", "man", "woman", "boys", "girls", "teenagers", "adults",
        "pensioners", "patients", "volunteers", "neighbours", "friends", "partners", "lads",
        "council", "nhs", "gp", "gps", "school", "schools", "hospital", "government", "city",
        "town", "area", "estate", "community", "church", "mosque", "club", "centre", "service",
        "services", "support", "health", "mental", "loneliness", "isolation", "poverty",
        "rent", "money", "work", "life", "covid", "lockdown", "winter", "summer", "today",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december", "i", "im", "i'm", "ive", "i've",
        "yes", "no", "please", "thanks", "thank", "also", "sadly", "unfortunately", "honestly",
        "basically", "obviously", "apparently", "literally", "really", "recently", "now",
        "then", "still", "just", "again", "because", "if", "when", "whether", "every", "each",
        "both", "either", "neither", "half", "most", "many", "some", "few", "more", "less",
    }
    | set(ENGLISH_STOP_WORDS)
)

_WORD_LIST = "|".join(
    re.escape(word).replace(r"\ ", r"\s+") for word in sorted(ABUSIVE_WORDS, key=len, reverse=True)
)
_ABUSE = re.compile(
    rf"(?<![\w-])(?:(?:{_WORD_LIST})(?:e?s)?|{'|'.join(_THREATS)})(?![\w-])", re.IGNORECASE
)
_CONDITION_LIST = "|".join(
    re.escape(word).replace(r"\ ", r"\s+").replace(r"\-", r"[\s-]?")
    for word in sorted(HEALTH_CONDITIONS, key=len, reverse=True)
)
_CONDITION = re.compile(rf"(?<![\w-])(?:{_CONDITION_LIST})(?![\w-])", re.IGNORECASE)
_NAME = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)*"
# A title or a relation before a capitalised name. The relation itself may be in any
# case; the name must start with a capital (that is what marks it as a name).
_TITLED = re.compile(rf"\b{_TITLES}\s+{_NAME}\b")
_RELATED = re.compile(rf"\b(?i:{_RELATIONS})(?:,)?\s+(?:called\s+)?({_NAME})\b")
_FIRST_NAME = re.compile(
    rf"(?<![\w-])(?:{'|'.join(COMMON_FIRST_NAMES)})(?![\w-])", re.IGNORECASE
)
# Capitalised word(s), a linking verb, then the condition within six words.
_NAME_LINK_CONDITION = re.compile(
    rf"(?<![\w'-])({_NAME})(?:\s+{_NAME})?\s+(?i:{_LINKS})\b(?:[\s,]+[\w'-]+){{0,6}}?[\s,]+"
    rf"(?i:{_CONDITION_LIST})(?![\w-])"
)


#: First names that are also everyday words ("Mark the paths", "Bill payers"): these
#: count as names only through the name-and-link rule ("Mark has depression").
_AMBIGUOUS_FIRST_NAMES = frozenset(
    {"mark", "bill", "rob", "sue", "ray", "dawn", "jack", "frank", "dean", "heather", "lee",
     "sally", "pam", "will", "may", "june", "joy", "grace", "hope", "faith", "rose", "neil"}
)
#: Group words: a condition that follows one of them is about the group, not the name
#: before it ("Walker has a lot of people with anxiety").
_GROUP_WORDS = frozenset(
    {"people", "folk", "folks", "kids", "children", "adults", "residents", "families",
     "parents", "carers", "men", "women", "patients", "pensioners", "teenagers", "lads",
     "everyone", "everybody", "others", "those", "many", "lots", "loads", "some"}
)


def _capitalised_first_names(text: str) -> bool:
    """A common first name written with a capital (so "mark" the verb is not a name)."""
    return any(
        match.group(0)[0].isupper() and match.group(0).casefold() not in _AMBIGUOUS_FIRST_NAMES
        for match in _FIRST_NAME.finditer(text)
    )


def _about_the_name(match: re.Match) -> bool:
    """The linked condition is about the capitalised word, not a group named after it."""
    name = match.group(1).casefold()
    if name in _NOT_NAMES or _CONDITION.fullmatch(match.group(1)) is not None:
        return False
    between = re.findall(r"[\w']+", match.group(0).casefold())
    return not _GROUP_WORDS.intersection(between)


def _names_a_person_with_condition(text: str) -> bool:
    if not _CONDITION.search(text):
        return False
    if _TITLED.search(text) or _capitalised_first_names(text):
        return True
    if any(match.group(1).casefold() not in _NOT_NAMES for match in _RELATED.finditer(text)):
        return True
    return any(_about_the_name(match) for match in _NAME_LINK_CONDITION.finditer(text))


def needs_review(text: object) -> list[str]:
    """Why ``text`` should wait for a facilitator before others see it ([] = show it now).

    Returns the reasons in :data:`REASONS` order, each at most once, as plain
    sentences ("contains an email address", ...). A missing or blank text needs
    no review. Pure: no state, no I/O.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    text = str(text)
    if not text.strip():
        return []
    reasons = []
    masked = mask_personal_details(text)
    for mask, reason in (
        (EMAIL_MASK, REASON_EMAIL),
        (PHONE_MASK, REASON_PHONE),
        (POSTCODE_MASK, REASON_POSTCODE),
    ):
        if masked.count(mask) > text.count(mask):
            reasons.append(reason)
    if _ABUSE.search(text):
        reasons.append(REASON_ABUSE)
    if _names_a_person_with_condition(text):
        reasons.append(REASON_HEALTH)
    return reasons


#: Below this many rows the vectorised pre-filter costs more than it saves: pandas parses
#: its four patterns on every call (about 8 ms), while the full rules take about 0.1 ms a
#: text (a live post-it is screened alone: 10 ms became 0.3 ms).
_PREFILTER_FROM_ROWS = 50


def screen_contributions(contributions: pd.DataFrame) -> np.ndarray:
    """One boolean per row of a contributions table: True = hold it for review.

    The ``screen=`` callable of :meth:`hwb_toolkit.store.Store.add_contributions`
    and :meth:`~hwb_toolkit.store.Store.import_csv`. Reads the ``text`` column;
    rows flagged by :func:`needs_review`.
    """
    texts = contributions["text"].astype("string").fillna("")
    if len(texts) <= _PREFILTER_FROM_ROWS:
        return np.array([bool(needs_review(text)) for text in texts], dtype=bool)
    # Cheap vectorised pre-filter: only texts with an "@", a digit run, a listed word,
    # a threat or a condition can need review; the full rules run on those alone.
    maybe = (
        texts.str.contains("@", regex=False)
        | texts.str.contains(r"\d", regex=True)
        | texts.str.contains(_ABUSE, regex=True)
        | texts.str.contains(_CONDITION, regex=True)
    ).to_numpy(dtype=bool)
    flags = np.zeros(len(texts), dtype=bool)
    candidates = np.flatnonzero(maybe)
    flags[candidates] = [bool(needs_review(texts.iloc[i])) for i in candidates]
    return flags

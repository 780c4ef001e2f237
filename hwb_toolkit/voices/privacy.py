"""Privacy on the way in: pseudonymous authors and masked personal details.

Every reader in :mod:`hwb_toolkit.io.contributions` passes authors (and vote
participants) through :func:`pseudonymise` and free text through
:func:`mask_personal_details` before a table leaves the reader, so nothing
downstream (themes, pages, the store, published briefings) ever holds a name,
an email address or a phone number typed into a form or onto a post-it.

Pseudonyms are keyed hashes (HMAC-SHA256), not plain hashes: without the key a
reader of a published table cannot confirm a guess ("is p_3f... Jane Smith?")
by hashing the name. The same key always gives the same pseudonym, so one
person's post-its, survey answers and votes stay linked across files. The key
comes from the ``key`` argument, else the environment variable
``HWB_PSEUDONYM_KEY``, else :data:`DEFAULT_PSEUDONYM_KEY`. The default is
public (it is in this file), so it is only good for the example workspace:
set ``HWB_PSEUDONYM_KEY`` to a private value for real material and keep it
out of the workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable

import pandas as pd

#: Environment variable holding the partnership's private pseudonym key.
PSEUDONYM_KEY_ENV = "HWB_PSEUDONYM_KEY"
#: Key used when none is given: public, for examples and tests only.
DEFAULT_PSEUDONYM_KEY = "hwb-toolkit-example-key"
#: Pseudonyms look like ``p_`` followed by 16 lowercase hex digits (64 bits).
PSEUDONYM_PREFIX = "p_"
PSEUDONYM_HEX_DIGITS = 16
_PSEUDONYM = re.compile(rf"^{PSEUDONYM_PREFIX}[0-9a-f]{{{PSEUDONYM_HEX_DIGITS}}}$")

EMAIL_MASK = "[email removed]"
PHONE_MASK = "[phone removed]"
POSTCODE_MASK = "[postcode removed]"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# UK numbers: +44 / 0044 (optionally "(0)") or a leading 0, then 9-11 more digits
# with spaces, dots, hyphens or brackets between them. The look-arounds stop a
# match inside a longer number or word.
_UK_PHONE = re.compile(
    r"(?<![\w+])"
    r"(?:(?:\+|00)44[\s.-]?(?:\(0\)[\s.-]?)?|\(?0)"
    r"(?:\d[\s.\-)]{0,3}){8,10}\d"
    r"(?!\d)"
)
# Full UK postcodes (outward + inward code). District-only codes ("LS9") carry
# useful place information and identify nobody, so they are left alone. An
# inward code that reads as an ordinal ("B12 3rd") is not taken for a postcode.
_UK_POSTCODE = re.compile(
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)[ \t]*\d(?!(?:st|nd|rd|th)\b)[ABD-HJLNP-UW-Z]{2}\b",
    re.IGNORECASE,
)


def pseudonym_key(key: str | bytes | None = None) -> bytes:
    """The key to pseudonymise with: ``key``, else ``$HWB_PSEUDONYM_KEY``, else the default."""
    if key is None:
        key = os.environ.get(PSEUDONYM_KEY_ENV) or DEFAULT_PSEUDONYM_KEY
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


def _one_pseudonym(value: str, key: bytes) -> str:
    if _PSEUDONYM.match(value):
        return value  # already a pseudonym: re-reading a toolkit table keeps it stable
    normalised = " ".join(value.split()).casefold()
    digest = hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_DIGITS]


def pseudonymise(values, key: str | bytes | None = None):
    """Replace names, emails or ids by keyed pseudonyms such as ``p_1f3a...`` (16 hex digits).

    ``values`` is one string, a list of strings or a pandas Series; the result
    has the same shape (a Series keeps its index). Missing and blank values
    stay missing. Values are compared after collapsing white space and case
    folding, so ``"Jane  Smith"`` and ``"jane smith"`` get the same pseudonym.
    A value that already is a pseudonym is returned unchanged, so reading a
    table the toolkit wrote does not hash twice. ``key``: see
    :func:`pseudonym_key`.
    """
    secret = pseudonym_key(key)
    if isinstance(values, str):
        stripped = values.strip()
        return _one_pseudonym(stripped, secret) if stripped else None
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="object")
    text = series.astype("string").str.strip()
    text = text.where(text != "")
    codes, uniques = pd.factorize(text)
    # Hash each distinct value once: a workshop has few authors and many rows.
    hashed = [_one_pseudonym(value, secret) for value in uniques]
    result = pd.Series(
        [hashed[code] if code >= 0 else None for code in codes], index=series.index, dtype="str"
    )
    if isinstance(values, pd.Series):
        return result.rename(values.name)
    return [None if pd.isna(value) else value for value in result]


def mask_personal_details(text, *, postcodes: bool = True):
    """Mask email addresses, UK phone numbers and (by default) full UK postcodes in free text.

    They become ``"[email removed]"``, ``"[phone removed]"`` and
    ``"[postcode removed]"``; everything else is left exactly as written.
    ``text`` is one string or a pandas Series (missing values stay missing).
    Phone numbers are UK forms: ``07700 900123``, ``+44 (0)20 7946 0000``,
    ``(0161) 496 0000``, ``0113-496-0000``.
    """
    if isinstance(text, pd.Series):
        masked = text.str.replace(_EMAIL, EMAIL_MASK, regex=True)
        masked = masked.str.replace(_UK_PHONE, PHONE_MASK, regex=True)
        if postcodes:
            masked = masked.str.replace(_UK_POSTCODE, POSTCODE_MASK, regex=True)
        return masked
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return text
    masked = _EMAIL.sub(EMAIL_MASK, text)
    masked = _UK_PHONE.sub(PHONE_MASK, masked)
    if postcodes:
        masked = _UK_POSTCODE.sub(POSTCODE_MASK, masked)
    return masked


def is_pseudonym(values: Iterable[str] | str) -> bool:
    """True when every non-missing value looks like a pseudonym made by :func:`pseudonymise`."""
    if isinstance(values, str):
        return bool(_PSEUDONYM.match(values))
    return all(_PSEUDONYM.match(str(value)) for value in values if not pd.isna(value))

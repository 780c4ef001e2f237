"""What the toolkit publishes protects people: one disclosure policy for everything published.

- **Authors are pseudonymous.** Every voices reader (:mod:`hwb_toolkit.io.voices`) passes
  authors (and vote participants) through :func:`pseudonymise` before a table leaves the
  reader. Pseudonyms are keyed hashes (HMAC-SHA256), not plain hashes: without the key a
  reader of a published table cannot confirm a guess ("is p_3f... Jane Smith?") by
  hashing the name. The same key always gives the same pseudonym, so one person's
  post-its, survey answers and votes stay linked across files. The key comes from the
  ``key`` argument, else the environment variable ``HWB_PSEUDONYM_KEY``, else
  :data:`DEFAULT_PSEUDONYM_KEY`. The default is public (it is in this file), so it is only
  good for the example workspace: set ``HWB_PSEUDONYM_KEY`` to a private value for real
  material and keep it out of the workspace.
- **Personal details are masked.** Free text is masked with :func:`mask_personal_details`
  at the one point where contributions enter the published tables,
  :meth:`hwb_toolkit.workspace.Workspace.contributions`, for the voices files and the
  shared store alike, so nothing downstream (themes, pages, prepared tables, published
  briefings) ever holds an email address, a phone number, a postcode, an NHS number or a
  National Insurance number typed into a form, onto a post-it or into the Workshop page.
- **Small counts are suppressed.** Counts from 1 to ``suppress_below - 1`` (default
  :data:`DEFAULT_SUPPRESS_BELOW`) read "fewer than 5" in the text, ``summary.json`` and
  charts (:func:`suppress_small`); when one part of a published total is hidden, the next
  smallest is hidden too (:func:`withhold_small_parts`), so the total cannot give it away.
"""

from __future__ import annotations

import hashlib
import hmac
import numbers
import os
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from hwb_toolkit.errors import ConfigError, InputError
from hwb_toolkit.values import as_number, is_missing

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
NHS_NUMBER_MASK = "[NHS number removed]"
NI_NUMBER_MASK = "[NI number removed]"

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


# NHS numbers: ten digits, written together or as 3-3-4 with spaces or hyphens. Only a
# number whose tenth digit is its modulus-11 check digit is masked (NHS Digital's rule),
# so an ordinary ten-digit number (an order, a count) is left alone.
_NHS_NUMBER = re.compile(r"(?<![\w+])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\w])")
# National Insurance numbers: two letters, six digits (often in pairs), a final letter A-D.
# Without the final letter only prefixes HMRC allocates count (first letter not D, F, I, Q,
# U or V; second not D, F, I, O, Q, U or V; not BG, GB, KN, NK, NT, TN or ZZ), so a code
# such as "PO123456" is not taken for one.
_NI_NUMBER = re.compile(
    r"(?<![\w])(?:[A-Z]{2}(?:[ ]?\d{2}){3}[ ]?[A-D]"
    r"|(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z](?:[ ]?\d{2}){3})(?![\w])",
    re.IGNORECASE,
)


def is_nhs_number(digits: str) -> bool:
    """True when ``digits`` (ten digits, spaces and hyphens ignored) pass the NHS number's
    modulus-11 check: weights 10 to 2 on the first nine digits, 11 minus the remainder
    of their sum divided by 11 is the tenth digit (11 counts as 0; 10 is never valid)."""
    numbers = [int(ch) for ch in digits if ch.isdigit()]
    if len(numbers) != 10:
        return False
    check = 11 - sum(weight * digit for weight, digit in zip(range(10, 1, -1), numbers[:9], strict=True)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == numbers[9]


def _mask_nhs_number(match: re.Match) -> str:
    return NHS_NUMBER_MASK if is_nhs_number(match.group(0)) else match.group(0)


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
    """Mask personal details in free text: email addresses, NHS numbers, National Insurance
    numbers, UK phone numbers and (by default) full UK postcodes.

    They become ``"[email removed]"``, ``"[NHS number removed]"``, ``"[NI number removed]"``,
    ``"[phone removed]"`` and ``"[postcode removed]"``; everything else is left exactly
    as written. ``text`` is one string or a pandas Series (missing values stay missing).
    NHS numbers are masked only when their check digit is right (:func:`is_nhs_number`);
    National Insurance numbers as ``QQ 12 34 56 C`` or ``AB123456``. Phone numbers are UK
    forms: ``07700 900123``, ``+44 (0)20 7946 0000``, ``(0161) 496 0000``, ``0113-496-0000``.
    """
    if isinstance(text, pd.Series):
        return text.map(lambda value: mask_personal_details(value, postcodes=postcodes))
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return text
    masked = _EMAIL.sub(EMAIL_MASK, text)
    masked = _NHS_NUMBER.sub(_mask_nhs_number, masked)
    masked = _NI_NUMBER.sub(NI_NUMBER_MASK, masked)
    masked = _UK_PHONE.sub(PHONE_MASK, masked)
    if postcodes:
        masked = _UK_POSTCODE.sub(POSTCODE_MASK, masked)
    return masked


# --- small counts ----------------------------------------------------------------------

#: Counts from 1 to DEFAULT_SUPPRESS_BELOW - 1 are hidden in anything published.
DEFAULT_SUPPRESS_BELOW = 5


#: A count withheld only so that a smaller, suppressed one cannot be worked out from a total.
WITHHELD_TEXT = "not shown"


def _suppressed_text(below: int) -> str:
    return f"fewer than {below}"


def _check_below(below: Any) -> int:
    if isinstance(below, bool) or not isinstance(below, numbers.Integral) or below < 1:
        raise ConfigError(f"suppress_below must be a whole number of at least 1, not {below!r}")
    return int(below)


def suppress_small(count: Any, below: int = DEFAULT_SUPPRESS_BELOW) -> Any:
    """``"fewer than 5"`` for a count from 1 to ``below - 1``; any other count unchanged.

    0 stays 0 (nobody is identified by nobody); None/NaN stay missing. Raises
    :class:`InputError` for a negative count.
    """
    below = _check_below(below)
    if is_missing(count) or isinstance(count, str):  # missing, or already withheld
        return count
    number = as_number(count, "count")
    if number < 0:
        raise InputError(f"a count cannot be negative: {count!r}")
    return _suppressed_text(below) if 0 < number < below else count


def withhold_small_parts(parts: Mapping[Any, Any], below: int = DEFAULT_SUPPRESS_BELOW) -> dict:
    """Counts that add up to a published total (contributions by sector...), safe to publish with it.

    Primary suppression: a part from 1 to ``below - 1`` becomes "fewer than N".
    Secondary suppression: when exactly one part is withheld, the total minus the
    parts shown would give it away, so the smallest other non-zero part is
    withheld too, as "not shown" (the statistical-disclosure practice of the
    ONS and NHS England). Parts of 0 are shown. Returns the parts in their
    order, each an int or a text; missing parts stay missing.
    """
    below = _check_below(below)
    out: dict = {}
    for key, count in parts.items():
        out[key] = count if is_missing(count) else int(as_number(count, "count"))
        if not is_missing(count) and out[key] < 0:
            raise InputError(f"a count cannot be negative: {count!r}")
    withheld = [key for key, n in out.items() if isinstance(n, int) and 0 < n < below]
    for key in withheld:
        out[key] = _suppressed_text(below)
    if len(withheld) == 1:
        shown = [(n, position) for position, n in enumerate(out.values()) if isinstance(n, int) and n > 0]
        if shown:
            out[list(out)[min(shown)[1]]] = WITHHELD_TEXT
    return out

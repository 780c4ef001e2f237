"""Who may do what at a live event: join codes, screen keys and participant cookies.

Role: floor 4 (UI serving), no I/O but the workspace's secret file. A live event must work
on a server protected by a token (the facilitator's pages need it) while anyone in the
room joins from a phone. So each session carries its own keys, all derived from one
random secret kept in the workspace (``<workspace>/.live_secret``, mode 600; never
served):

- **The join code** (:func:`join_code`): 6 characters from an alphabet without look-alike
  characters (no 0/O, 1/I/L), shown on the projector with a short link (``/j/<code>``)
  and a QR code. Knowing it lets a person take part in that one session. Typed codes are
  read case-insensitively (:func:`normalise_code`).
- **The screen key** (:func:`screen_key`): 22 characters, in the facilitator's links to
  the projector views (join screen and wall) of one session; never shown to the room.
- **The participant cookie** (:func:`participant_cookie` / :func:`participant_from_cookie`):
  a random id signed with the secret, so a reload in the same browser is the same person
  (their dots and votes stay theirs) and nobody can claim another's id. The store only
  ever sees the id's pseudonym (:func:`~hwb_toolkit.voices.pseudonymise`).

Keys are HMAC-SHA256 of the session id under the secret, so they need no storage and
change only if the secret file is deleted (which ends every participant's identity too).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

from tornado.web import create_signed_value, decode_signed_value

from hwb_toolkit.apps.session import workspace_secret
from hwb_toolkit.voices import pseudonymise

#: File in the workspace holding the live event secret (made on first use).
LIVE_SECRET_FILE = ".live_secret"
#: Letters and digits of a join code: none that reads like another (0/O, 1/I/L, 5/S, 2/Z).
CODE_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 6
#: Name of the cookie holding a participant's signed id.
PARTICIPANT_COOKIE = "hwb_participant"
#: How long a participant cookie is honoured (days): long enough for a multi-day event.
PARTICIPANT_COOKIE_DAYS = 30


def live_secret(workspace_root: str | Path) -> str:
    """The workspace's live event secret (64 hex digits), made once on first use."""
    return workspace_secret(workspace_root, LIVE_SECRET_FILE, lambda: secrets.token_hex(32))


def _digest(secret: str, purpose: str, session_id: str) -> bytes:
    message = f"{purpose}\n{session_id}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def join_code(secret: str, session_id: str) -> str:
    """The session's join code: :data:`CODE_LENGTH` characters of :data:`CODE_ALPHABET`."""
    number = int.from_bytes(_digest(secret, "join", session_id), "big")
    letters = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[index])
    return "".join(letters)


def normalise_code(typed: str | None) -> str:
    """A typed join code as it is compared: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in str(typed or "").upper() if ch.isalnum())


def is_join_code(secret: str, session_id: str, typed: str | None) -> bool:
    """True when ``typed`` is the session's join code (any case; compared in constant time)."""
    expected = join_code(secret, session_id).encode()
    return hmac.compare_digest(normalise_code(typed).encode(), expected)


def screen_key(secret: str, session_id: str) -> str:
    """The key in the facilitator's links to the session's projector views."""
    digest = _digest(secret, "screen", session_id)[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_screen_key(secret: str, session_id: str, typed: str | None) -> bool:
    """True when ``typed`` is the session's screen key (compared in constant time)."""
    return hmac.compare_digest(str(typed or "").encode(), screen_key(secret, session_id).encode())


def new_participant_id() -> str:
    """A fresh random participant id (kept only in the participant's cookie)."""
    return secrets.token_hex(16)


def sign(secret: str, name: str, value: str) -> str:
    """``value`` signed (and time-stamped) for the cookie ``name``."""
    return create_signed_value(secret, name, value).decode()


def unsign(secret: str, name: str, signed: str | None) -> str | None:
    """The value of a cookie made by :func:`sign`, or None if it is missing, forged, made
    for another cookie or older than :data:`PARTICIPANT_COOKIE_DAYS`."""
    if not signed:
        return None
    decoded = decode_signed_value(secret, name, signed, max_age_days=PARTICIPANT_COOKIE_DAYS)
    return None if decoded is None else decoded.decode("utf-8", "replace")


def participant_cookie(secret: str, participant_id: str) -> str:
    """The signed cookie value carrying ``participant_id``."""
    return sign(secret, PARTICIPANT_COOKIE, participant_id)


def participant_from_cookie(secret: str, value: str | None) -> str | None:
    """The participant id in a cookie value, or None if it is missing, forged or too old."""
    text = unsign(secret, PARTICIPANT_COOKIE, value)
    if text is None or len(text) != 32 or any(ch not in "0123456789abcdef" for ch in text):
        return None
    return text


def participant_pseudonym(participant_id: str) -> str:
    """What the store keeps for a participant: the pseudonym of their cookie's id."""
    return pseudonymise(participant_id)

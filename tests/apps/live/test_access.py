"""Join codes, screen keys and participant cookies (hwb_toolkit/apps/live/access.py)."""

from __future__ import annotations

import os
import re
import stat

from hwb_toolkit.apps.live.access import (
    CODE_ALPHABET,
    LIVE_SECRET_FILE,
    PARTICIPANT_COOKIE,
    is_join_code,
    is_screen_key,
    join_code,
    live_secret,
    new_participant_id,
    normalise_code,
    participant_cookie,
    participant_from_cookie,
    participant_pseudonym,
    screen_key,
)

SECRET = "a" * 64


def test_the_secret_is_made_once_per_workspace_and_private(tmp_path):
    first = live_secret(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert live_secret(tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / LIVE_SECRET_FILE).st_mode) == 0o600


def test_join_codes_are_short_unambiguous_and_differ_by_session_and_secret():
    code = join_code(SECRET, "moving-more-1a2b3c")
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert not set("01ILOS5Z2") & set(CODE_ALPHABET)  # nothing that reads as something else
    assert join_code(SECRET, "moving-more-1a2b3c") == code  # derived, not stored
    codes = {join_code(SECRET, f"session-{n}") for n in range(500)}
    assert len(codes) == 500
    assert join_code("b" * 64, "moving-more-1a2b3c") != code


def test_a_typed_code_is_read_in_any_case_with_spaces_or_dashes():
    code = join_code(SECRET, "s-1")
    typed = f" {code[:3].lower()} - {code[3:]} "
    assert normalise_code(typed) == code
    assert is_join_code(SECRET, "s-1", typed)
    assert not is_join_code(SECRET, "s-2", typed)
    assert not is_join_code(SECRET, "s-1", None)
    assert not is_join_code(SECRET, "s-1", "")


def test_screen_keys_open_one_session_only():
    key = screen_key(SECRET, "s-1")
    assert len(key) >= 20
    assert is_screen_key(SECRET, "s-1", key)
    assert not is_screen_key(SECRET, "s-2", key)
    assert not is_screen_key(SECRET, "s-1", key[:-1])
    assert not is_screen_key(SECRET, "s-1", None)


def test_a_participant_cookie_carries_their_id_and_cannot_be_forged():
    participant = new_participant_id()
    cookie = participant_cookie(SECRET, participant)
    assert participant_from_cookie(SECRET, cookie) == participant
    assert participant_from_cookie("b" * 64, cookie) is None  # another server's secret
    forged = cookie.replace(participant.encode().hex()[:4], "0000")
    tampered = cookie[:-2] + ("00" if not cookie.endswith("00") else "11")
    assert participant_from_cookie(SECRET, forged) in (None, participant)
    assert participant_from_cookie(SECRET, tampered) is None
    assert participant_from_cookie(SECRET, None) is None
    assert participant_from_cookie(SECRET, "garbage") is None
    assert PARTICIPANT_COOKIE in cookie


def test_the_store_sees_a_pseudonym_never_the_cookie_id():
    participant = new_participant_id()
    pseudonym = participant_pseudonym(participant)
    assert pseudonym.startswith("p_") and participant not in pseudonym
    assert participant_pseudonym(participant) == pseudonym

"""Voices: what people said and voted, where they agree and divide, and whose voice is missing.

Pure analysis of the canonical contributions and votes tables
(:data:`hwb_toolkit.schema.CONTRIBUTION_COLUMNS`, :data:`~hwb_toolkit.schema.VOTE_COLUMNS`)
that the readers in :mod:`hwb_toolkit.io.voices` produce:

- :func:`find_themes` (:mod:`.themes`): strategy themes by keyword, further themes
  discovered with TF-IDF + NMF, representative verbatim quotes, meta statements set aside.
- :func:`tally`, :func:`poll_summary` (:mod:`.votes`): dot, approval and Borda tallies;
  agree/disagree/pass counts.
- :func:`voice_balance` (:mod:`.balance`): contributions by sector and organisation,
  missing voices, concentration.
- :func:`pseudonymise`, :func:`mask_personal_details` (:mod:`.privacy`): authors are
  pseudonymised by the readers; text is masked where contributions enter the published
  tables (``Workspace.contributions``).
- Opinion groups, consensus and division, the Polis way (:mod:`.opinion`).
"""

from hwb_toolkit.privacy import mask_personal_details, pseudonymise
from hwb_toolkit.voices.balance import VoiceBalance, voice_balance
from hwb_toolkit.voices.opinion import OpinionGroups, opinion_groups
from hwb_toolkit.voices.statements import (
    Consensus,
    consensus,
    divisive_statements,
    representative_statements,
    representative_statements_table,
    uncertain_statements,
)
from hwb_toolkit.voices.themes import ThemeResult, find_themes, is_meta_statement
from hwb_toolkit.voices.votes import latest_votes, poll_summary, tally

__all__ = [
    "Consensus",
    "OpinionGroups",
    "consensus",
    "divisive_statements",
    "opinion_groups",
    "representative_statements",
    "representative_statements_table",
    "uncertain_statements",
    "ThemeResult",
    "VoiceBalance",
    "find_themes",
    "is_meta_statement",
    "latest_votes",
    "mask_personal_details",
    "poll_summary",
    "pseudonymise",
    "tally",
    "voice_balance",
]

"""Reading what people said and voted: every voices export into the canonical tables.

Workshops, surveys and polls arrive in many shapes: a post-it wall typed into a
spreadsheet, a Microsoft or Google Forms download, Mentimeter's voters sheet,
open-space proceedings, dot-vote tallies, a Polis export, participatory-budgeting
ballots in pabulib's ``.pb`` format. The readers here turn each into the
canonical contributions table (:data:`hwb_toolkit.schema.CONTRIBUTION_COLUMNS`)
or votes table (:data:`hwb_toolkit.schema.VOTE_COLUMNS`), so the engines in
:mod:`hwb_toolkit.voices` see one shape only.

Conventions shared by every reader:

- Files are decoded, and problems reported, through :mod:`hwb_toolkit.io.tabular`:
  an unusable file raises :class:`~hwb_toolkit.errors.InputError` (or
  :class:`~hwb_toolkit.errors.SchemaError` for missing columns) naming the file,
  the row as a spreadsheet shows it (header = row 1; for ``.pb`` files, which
  have several headers, the line number) and the column.
- Privacy on the way in: ``author`` (and a vote's ``participant``) is replaced by
  a keyed pseudonym (:func:`hwb_toolkit.privacy.pseudonymise`; key from the
  ``pseudonym_key`` argument or ``$HWB_PSEUDONYM_KEY``). Personal details in ``text``
  (emails, phone numbers, postcodes, NHS and National Insurance numbers) are masked
  where contributions enter the published tables,
  :meth:`hwb_toolkit.workspace.Workspace.contributions`, for these files and the
  shared store alike. Polis and pabulib ids are already anonymous numbers published
  as open data; they are kept as they are so results can be compared with the
  published ones.
- Text is kept verbatim apart from surrounding white space.
- ``created_at`` is UTC (``datetime64[us, UTC]``, NaT when unknown). ISO 8601
  strings, epoch seconds or milliseconds and day-first dates (``05/03/2024``, the
  UK convention) are accepted; times without a zone are taken as UTC.
- ``sector`` is mapped onto :data:`hwb_toolkit.schema.SECTORS` with
  :func:`normalise_sector` (``"NHS"``/``"Health"`` -> ``nhs``,
  ``"Charity"``/``"Voluntary"``/``"Community"`` -> ``vcse``, ...). A value it does
  not recognise is refused (naming file, row and the valid sectors) in files the
  partnership prepares (canonical, open space, a dict mapping); in form exports,
  where the sector is whatever a respondent typed, it becomes ``other`` and a
  :class:`SectorWarning` lists the rows.
- A contribution without an id gets ``<source slug>-<row>`` (``-q<n>`` added for
  the n-th question of a form), so the same file always gives the same ids.

One module per shape of file: :mod:`.forms` (contributions files, one layout per export
format in a table), :mod:`.votes`, :mod:`.polis`, :mod:`.pabulib`; :mod:`.common` holds
what they share (sectors, dates, ids, the checks that finish a table).
"""

from hwb_toolkit.io.voices.common import (
    PARTICIPANTS_COLUMN,
    SectorWarning,
    normalise_sector,
    parse_datetimes,
)
from hwb_toolkit.io.voices.forms import MAPPINGS, read_contributions
from hwb_toolkit.io.voices.pabulib import read_pabulib
from hwb_toolkit.io.voices.polis import read_polis_export, read_polis_groups, read_polis_summary
from hwb_toolkit.io.voices.votes import read_votes

__all__ = [
    "MAPPINGS",
    "PARTICIPANTS_COLUMN",
    "SectorWarning",
    "normalise_sector",
    "parse_datetimes",
    "read_contributions",
    "read_votes",
    "read_polis_export",
    "read_polis_summary",
    "read_polis_groups",
    "read_pabulib",
]

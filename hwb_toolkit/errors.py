"""The one exception family of hwb_toolkit.

Every error the toolkit raises on purpose is an :class:`HwbError`. Errors about
input carry the file, the row and the column they are about, so the CLI and the
partner pages can turn them into one plain sentence ("indicators.csv, row 14,
column 'Value': 'n/a' is not a number") instead of a traceback.

Row convention: ``row`` is the row number a person sees when they open the file
in a spreadsheet, so the header is row 1 and the first data row is row 2. For
files without a header (or YAML), ``row`` is the 1-based line number.
"""

from __future__ import annotations

from os import PathLike


class _Located:
    """What an error or a warning about input carries: file, row (or line) and column,
    and the one way they are printed ("file, row N, column 'X': message")."""

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike | None = None,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = None if file is None else str(file)
        # A text file (YAML) has lines rather than spreadsheet rows; both are kept in ``row``.
        self.row = line if line is not None else row
        self.row_word = "line" if line is not None else "row"
        self.column = column

    def location(self) -> str:
        """Where the problem is, as "file, row N, column 'X'" (parts omitted when unknown)."""
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"{getattr(self, 'row_word', 'row')} {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class HwbError(_Located, Exception):
    """Base class: a problem the toolkit recognised and can explain."""


class InputError(HwbError):
    """An input file is unreadable or holds a value that cannot be used."""


class SchemaError(InputError):
    """An input file lacks required columns, or has them renamed."""


class ConfigError(HwbError):
    """A workspace or strategy file is invalid (unknown ids, wrong types, bad YAML)."""


class StoreError(HwbError):
    """The shared store refused or could not complete a change."""


class PipelineError(HwbError):
    """A briefing run or batch failed."""


class InputWarning(_Located, UserWarning):
    """Input the toolkit can go on without, but someone must hear about: rows left out.

    Carries ``file``, ``row`` and ``column`` like :class:`HwbError` and prints the
    same way ("indicators.csv, row 14, column 'Value': ..."). Issued with
    :func:`warnings.warn`; the ``hwb`` command prints each one as a plain line.
    """

"""The workspace: one partnership's folder, and the one module that knows its layout.

A workspace holds ``strategy.yaml``, ``indicators/`` (Fingertips exports or tidy
files), ``voices/`` (with ``sources.yaml`` saying how to read each file),
``actions.csv`` and the shared store ``store.sqlite``. See README.md, section
"The workspace". Everything else asks :class:`Workspace` for tables, so a
change of layout touches this file only.

Actions live in the shared store once the workspace is in use: the first time
the store is opened, ``actions.csv`` is imported into it (recorded in the
store's history as an import), and from then on the store is the register that
partners edit. Contributions and votes are the union of the voices files (read
only: they are exports of past events) and what partners added in the store.
"""

from __future__ import annotations

import difflib
import re
import shutil
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from hwb_toolkit.errors import ConfigError
from hwb_toolkit.io.yamlfile import load_yaml
from hwb_toolkit.resources import example_workspace_dir
from hwb_toolkit.schema import CONTRIBUTION_COLUMNS, VOTE_COLUMNS

if TYPE_CHECKING:
    from hwb_toolkit.store import Store
    from hwb_toolkit.system.strategy import Strategy

STRATEGY_FILE = "strategy.yaml"
INDICATORS_DIR = "indicators"
VOICES_DIR = "voices"
VOICES_SOURCES = "voices/sources.yaml"
ACTIONS_FILE = "actions.csv"
STORE_FILE = "store.sqlite"
CACHE_DIR = ".cache"

#: Who the store records as the author of rows imported from the workspace's files.
IMPORTER = "import"

#: What an area code may look like: letters and digits only (ONS codes such as E08000021,
#: GP practice codes such as A81001), so a code can never name a folder elsewhere.
_AREA_CODE = re.compile(r"^[A-Za-z0-9]{1,20}$")


def check_area_code(code: str) -> str:
    """``code`` without surrounding spaces, or :class:`ConfigError` if it is not an area code.

    Only its form is checked (letters and digits), so that a report folder named
    after it stays inside the reports folder; :meth:`Workspace.resolve_area`
    also checks that the workspace has the area.
    """
    text = str(code).strip()
    if not _AREA_CODE.match(text):
        raise ConfigError(
            f"{code!r} is not an area code: use the area's code alone, letters and digits "
            "such as E08000021 ('hwb areas' lists a workspace's areas)"
        )
    return text


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContributionSource(_Source):
    file: str
    source: str | None = None
    mapping: str = "canonical"
    kind: str | None = None
    questions: list[str] | None = None


class VoteSource(_Source):
    file: str
    source: str | None = None
    session: str | None = None
    kind: Literal["dot", "approval", "rank", "agree_disagree"]
    cap: int | None = None


class PolisSource(_Source):
    folder: str
    source: str | None = None


class VoicesSources(_Source):
    """The parsed ``voices/sources.yaml``: which voices files to read, and how."""

    contributions: list[ContributionSource] = []
    votes: list[VoteSource] = []
    polis: list[PolisSource] = []


def init_workspace(destination: str | Path, *, overwrite: bool = False) -> Path:
    """Copy the bundled example workspace to ``destination`` and return its path.

    Refuses to write into a folder that already has files unless ``overwrite``.
    The copy is made beside the destination and renamed into place, so an
    interrupted init never leaves a half-copied workspace.
    """
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()) and not overwrite:
        raise ConfigError(
            "the folder is not empty; choose a new folder or pass --overwrite", file=destination
        )
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(
        example_workspace_dir(),
        staging,
        ignore=shutil.ignore_patterns(
            "__pycache__", CACHE_DIR, f"{STORE_FILE}*", "*.pyc"
        ),
    )
    if destination.exists():
        shutil.rmtree(destination)
    staging.rename(destination)
    return destination


class Workspace:
    """One partnership's folder of material. Tables are read once and kept.

    Use :meth:`open` to get one; attribute access reads lazily, so a page that
    only needs the strategy does not pay for the indicator data.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    @classmethod
    def open(cls, root: Workspace | str | Path) -> Workspace:
        """Open the workspace at ``root``; :class:`ConfigError` if it is not one. A workspace
        already open is returned as it is, so callers take either and open nothing twice."""
        if isinstance(root, Workspace):
            return root
        workspace = cls(root)
        if not workspace.root.is_dir():
            raise ConfigError("workspace folder not found", file=workspace.root)
        if not workspace.strategy_path.is_file():
            raise ConfigError(
                f"not a workspace: {STRATEGY_FILE} is missing (make one with 'hwb init')",
                file=workspace.root,
            )
        return workspace

    # --- paths -------------------------------------------------------------
    @property
    def strategy_path(self) -> Path:
        return self.root / STRATEGY_FILE

    @property
    def indicators_dir(self) -> Path:
        return self.root / INDICATORS_DIR

    @property
    def voices_dir(self) -> Path:
        return self.root / VOICES_DIR

    @property
    def actions_path(self) -> Path:
        return self.root / ACTIONS_FILE

    @property
    def store_path(self) -> Path:
        return self.root / STORE_FILE

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR

    # --- tables ------------------------------------------------------------
    @cached_property
    def strategy(self) -> Strategy:
        """The validated strategy (vision, objectives, themes, indicators, stakeholders)."""
        from hwb_toolkit.system.strategy import load_strategy

        return load_strategy(self.strategy_path)

    @cached_property
    def indicators(self) -> pd.DataFrame:
        """Every indicator file in ``indicators/``, in canonical columns (cached as Arrow IPC)."""
        from hwb_toolkit.io.fingertips import read_indicator_folder

        folder = self.inside(self.indicators_dir)
        if folder.is_dir():
            for entry in folder.iterdir():
                self.inside(entry)
        calculators = {
            spec.id: (spec.calculator, spec.multiplier) for spec in self.strategy.indicators
        }
        return read_indicator_folder(folder, cache_dir=self.cache_dir, calculators=calculators)

    def inside(self, path: str | Path, named_in: str | Path | None = None) -> Path:
        """``path`` resolved, or :class:`ConfigError` if it (or a link on the way) leads out
        of the workspace: a workspace shared with others must not make the toolkit read,
        and perhaps publish, a file elsewhere on the machine. ``named_in``: the file that
        names the path, for the message."""
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.root):
            raise ConfigError(
                f"{str(path)!r} leads outside the workspace ({resolved}); copy the file into "
                "the workspace instead",
                file=named_in if named_in is not None else path,
            )
        return resolved

    @cached_property
    def voices_sources(self) -> VoicesSources:
        """The parsed ``voices/sources.yaml`` (empty when there is none); every file and
        folder it names must lie inside the workspace."""
        path = self.root / VOICES_SOURCES
        if not path.is_file():
            return VoicesSources()
        raw, _ = load_yaml(self.inside(path))
        try:
            sources = VoicesSources.model_validate(raw or {})
        except ValidationError as error:
            first = error.errors()[0]
            key = ".".join(str(part) for part in first["loc"])
            raise ConfigError(f"{key}: {first['msg']}", file=path) from None
        for group in ("contributions", "votes", "polis"):
            for position, item in enumerate(getattr(sources, group)):
                named = getattr(item, "folder", None) or getattr(item, "file", None)
                try:
                    self.inside(self.voices_dir / named, path)
                except ConfigError as error:
                    raise ConfigError(
                        f"{group}[{position}]: {error.message}", file=path
                    ) from None
        return sources

    @cached_property
    def _voices_files(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        from hwb_toolkit.io.voices import read_contributions, read_polis_export, read_votes

        sources = self.voices_sources
        contributions = [
            read_contributions(
                self.voices_dir / item.file,
                item.mapping,
                source=item.source or item.file,
                kind=item.kind,
                questions=item.questions,
            )
            for item in sources.contributions
        ]
        votes = [
            read_votes(
                self.voices_dir / item.file,
                item.kind,
                source=item.source or item.file,
                session=item.session,
            )
            for item in sources.votes
        ]
        for item in sources.polis:
            polis_contributions, polis_votes = read_polis_export(
                self.voices_dir / item.folder, source=item.source or item.folder
            )
            contributions.append(polis_contributions)
            votes.append(polis_votes)
        return _concat(contributions, CONTRIBUTION_COLUMNS), _concat(votes, VOTE_COLUMNS)

    def vote_caps(self) -> dict[str, int]:
        """Most dots one participant may put on one item, by vote source (from sources.yaml)."""
        return {
            item.source or item.file: item.cap
            for item in self.voices_sources.votes
            if item.cap is not None
        }

    def contributions(self, *, include_store: bool = True) -> pd.DataFrame:
        """Contributions from the voices files plus the visible ones partners added in the store.

        The one point where contributions enter the published tables (briefings, pages,
        a batch's prepared tables): personal details in ``text`` are masked here
        (:func:`hwb_toolkit.voices.privacy.mask_personal_details`), whatever the source.
        """
        from hwb_toolkit.privacy import mask_personal_details

        files, _ = self._voices_files
        if include_store and self.store_path.exists():
            files = _concat([files, self.store().contributions()], CONTRIBUTION_COLUMNS)
        return files.assign(text=mask_personal_details(files["text"]))

    def votes(self, *, include_store: bool = True) -> pd.DataFrame:
        """Votes from the voices files plus those cast in the store."""
        _, files = self._voices_files
        if not include_store or not self.store_path.exists():
            return files
        return _concat([files, self.store().votes()], VOTE_COLUMNS)

    def actions(self) -> pd.DataFrame:
        """The actions register, as held in the shared store (seeded from actions.csv)."""
        return self.store().actions()

    @cached_property
    def _store(self) -> Store:
        from hwb_toolkit.store import Store
        from hwb_toolkit.system.actions import read_actions

        store = Store(self.store_path)
        if self.actions_path.is_file() and store.actions().empty:
            actions = read_actions(self.actions_path, strategy=self.strategy)
            # One transaction keeping the register's own dates; a second run changes nothing.
            store.save_actions(actions, by=f"{IMPORTER}:{ACTIONS_FILE}", keep_stamps=True)
        return store

    def store(self) -> Store:
        """The shared store, created (and seeded with ``actions.csv``) on first use."""
        return self._store

    def areas(self) -> pd.DataFrame:
        """The areas a briefing can be made for: every area with indicator data below a
        parent (so not England itself), with ``area_code, area_name, area_type,
        parent_code, parent_name``, sorted by name."""
        data = self.indicators
        areas = (
            data.loc[data["parent_code"].notna(), ["area_code", "area_name", "area_type",
                                                   "parent_code", "parent_name"]]
            .drop_duplicates("area_code")
            .sort_values(["area_type", "area_name"])
            .reset_index(drop=True)
        )
        return areas

    def briefing_areas(self) -> pd.DataFrame:
        """The areas of the lowest tier present (the local authorities, not their regions)."""
        areas = self.areas()
        parents = set(areas["parent_code"])
        return areas[~areas["area_code"].isin(parents)].reset_index(drop=True)

    def resolve_area(self, code: str) -> str:
        """The workspace's spelling of area ``code`` (matched ignoring case and spaces).

        Raises :class:`ConfigError` for text that is not an area code, and for a
        code the workspace has no data for, naming the nearest codes it has.
        """
        wanted = check_area_code(code)
        areas = self.areas()
        by_folded = {str(c).casefold(): str(c) for c in areas["area_code"]}
        if wanted.casefold() in by_folded:
            return by_folded[wanted.casefold()]
        names = dict(zip(areas["area_code"].astype(str), areas["area_name"].astype(str),
                         strict=True))
        nearest = difflib.get_close_matches(wanted.upper(), [c.upper() for c in names], n=3,
                                            cutoff=0.5)
        upper_to_code = {c.upper(): c for c in names}
        hint = (
            "; nearest: " + ", ".join(
                f"{upper_to_code[c]} ({names[upper_to_code[c]]})" for c in nearest
            )
            if nearest else ""
        )
        raise ConfigError(
            f"area {wanted} is not in this workspace's indicator data{hint} "
            "('hwb areas' lists them all)"
        )


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame({column: pd.Series(dtype="object") for column in columns})
    combined = pd.concat(frames, ignore_index=True)
    return combined.reindex(columns=columns + [c for c in combined.columns if c not in columns])

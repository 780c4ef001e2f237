"""The partnership's strategy file (``strategy.yaml``): read, validated and queried.

The strategy holds what a Health and Wellbeing Board agrees centrally: a
vision, a few objectives, the themes under each objective (with keywords used
to tag contributions), the Fingertips indicators it watches (with their
polarity and the calculator that produces them) and its stakeholders (each
organisation with its sector). Everything else in the whole-system engine
refers to these ids.

:func:`load_strategy` reads the YAML, validates it with the pydantic models
below and reports every problem as one :class:`~hwb_toolkit.errors.ConfigError`
naming the file, the LINE in the YAML (``error.row``) and the key path, e.g.
``themes[2].objective``. Key paths use 0-based list positions, as Python and
pydantic do; the line number is what a person should look at.

Checks made on load:

- YAML syntax (with the line), a mapping at the top, no key repeated in one mapping;
- unknown keys are rejected, naming the key (and the nearest allowed key);
- wrong types (e.g. a list where text is expected; an unquoted ``yes``/``no``,
  which YAML reads as true/false, where text is expected);
- ids of objectives and themes are slugs (lowercase letters, digits, hyphens)
  and unique; indicator ids (Fingertips indicator IDs) are unique positive integers;
- every theme names an existing objective; every indicator names an existing
  objective and, if it has one, an existing theme of that same objective;
- polarity in :data:`hwb_toolkit.schema.POLARITIES`; calculator in
  :data:`CALCULATORS`; sector in :data:`hwb_toolkit.schema.SECTORS`;
  stakeholder organisations unique (ignoring case and surrounding spaces).

Decisions: ``multiplier`` is required (a default would silently mis-scale a
rate); ``description``, ``keywords``, ``goal``, an indicator's ``theme`` and
``home_area`` are optional; ``objectives`` needs at least one entry, the other
lists may be empty.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hwb_toolkit.errors import ConfigError
from hwb_toolkit.io.yamlfile import load_yaml
from hwb_toolkit.schema import POLARITIES, SECTORS

#: Calculators that may produce an indicator's value.
CALCULATORS = ("proportion", "crude_rate", "dsr", "isr", "mean")

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_AREA_CODE = re.compile(r"^[A-Z]\d{8}$")

#: A key path inside the YAML: mapping keys (str) and list positions (int).
KeyPath = tuple[str | int, ...]


def _reject_bool(value: Any) -> Any:
    # YAML reads unquoted yes/no/on/off/true/false as booleans, and pydantic's lax
    # mode would turn True into 1 or "True"; a boolean is never meant here.
    if isinstance(value, bool):
        raise ValueError(
            f"{value!r} is a true/false value here (YAML reads unquoted yes, no, on, off, "
            "true and false that way): put the text in quotes"
        )
    return value


def _check_slug(value: Any) -> Any:
    if isinstance(value, str) and not _SLUG.match(value.strip()):
        raise ValueError(
            f"{value!r} is not a valid id: use lowercase letters, digits and hyphens "
            "(for example 'active-lives')"
        )
    return value.strip() if isinstance(value, str) else value


def _check_area_code(value: Any) -> Any:
    if isinstance(value, str) and not _AREA_CODE.match(value.strip()):
        raise ValueError(f"{value!r} is not an ONS area code (like 'E08000021')")
    return value


Text = Annotated[str, BeforeValidator(_reject_bool)]
Slug = Annotated[str, BeforeValidator(_check_slug), BeforeValidator(_reject_bool)]
IndicatorId = Annotated[int, Field(gt=0), BeforeValidator(_reject_bool)]
Number = Annotated[float, BeforeValidator(_reject_bool)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Objective(_Model):
    """One objective of the strategy: ``id`` is a slug, e.g. ``active-lives``."""

    id: Slug
    title: Text = Field(min_length=1)
    description: Text = ""


class Theme(_Model):
    """A theme under one objective; ``keywords`` tag contributions to it."""

    id: Slug
    objective: Slug
    title: Text = Field(min_length=1)
    keywords: list[Text] = Field(default_factory=list)


class IndicatorSpec(_Model):
    """A Fingertips indicator the partnership watches.

    ``multiplier`` is the scale of the published value (100 for a percentage,
    100000 for a rate per 100,000); ``goal`` is on that same scale. ``subject``
    is an optional plain-English phrase that follows the value in sentences
    ("of adults are physically inactive" gives "22.1% of adults are physically
    inactive").
    """

    id: IndicatorId
    name: Text = Field(min_length=1)
    polarity: Literal[POLARITIES]
    calculator: Literal[CALCULATORS]
    multiplier: Number = Field(gt=0)
    objective: Slug
    theme: Slug | None = None
    goal: Number | None = None
    subject: Text | None = None


class Stakeholder(_Model):
    """A partner organisation and its sector (one of :data:`hwb_toolkit.schema.SECTORS`)."""

    organisation: Text = Field(min_length=1)
    sector: Literal[SECTORS]


class StrategyReferenceError(ValueError):
    """Cross-reference problems found after each field was valid: (key path, message) pairs."""

    def __init__(self, problems: list[tuple[KeyPath, str]]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{format_key_path(path)}: {message}" for path, message in problems)
        )


def _organisation_key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


class Strategy(_Model):
    """The validated strategy. Build it with :func:`load_strategy` to get errors with lines."""

    name: Text = Field(min_length=1)
    home_area: Annotated[str | None, BeforeValidator(_check_area_code)] = None
    vision: Text = Field(min_length=1)
    objectives: list[Objective] = Field(min_length=1)
    themes: list[Theme] = Field(default_factory=list)
    indicators: list[IndicatorSpec] = Field(default_factory=list)
    stakeholders: list[Stakeholder] = Field(default_factory=list)

    @field_validator("home_area", mode="before")
    @classmethod
    def _strip_home_area(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_references(self) -> Strategy:
        problems = reference_problems(self)
        if problems:
            raise StrategyReferenceError(problems)
        return self

    # --- look-ups ---------------------------------------------------------
    def taxonomy(self) -> dict[str, list[str]]:
        """Theme id -> its keywords (in file order), for tagging contributions."""
        return {theme.id: list(theme.keywords) for theme in self.themes}

    def polarity(self) -> dict[int, str]:
        """Fingertips indicator id -> polarity, for :func:`summarise_area`."""
        return {indicator.id: indicator.polarity for indicator in self.indicators}

    def theme_objectives(self) -> dict[str, str]:
        """Theme id -> the id of the objective it sits under."""
        return {theme.id: theme.objective for theme in self.themes}

    def sector_of(self, organisation: str) -> str | None:
        """The sector of an organisation in the stakeholder list, or None if it is not listed.

        Names match ignoring case, surrounding spaces and repeated inner spaces.
        """
        if organisation is None or (not isinstance(organisation, str) and pd.isna(organisation)):
            return None
        wanted = _organisation_key(organisation)
        for stakeholder in self.stakeholders:
            if _organisation_key(stakeholder.organisation) == wanted:
                return stakeholder.sector
        return None

    def canonical_organisation(self, organisation: str) -> str | None:
        """The stakeholder list's spelling of ``organisation`` (matched as in :meth:`sector_of`)."""
        wanted = _organisation_key(organisation)
        for stakeholder in self.stakeholders:
            if _organisation_key(stakeholder.organisation) == wanted:
                return stakeholder.organisation
        return None

    # --- frames -----------------------------------------------------------
    def objectives_frame(self) -> pd.DataFrame:
        """Columns objective, title, description; one row per objective in file order."""
        return pd.DataFrame(
            {
                "objective": pd.Series([o.id for o in self.objectives], dtype="str"),
                "title": pd.Series([o.title for o in self.objectives], dtype="str"),
                "description": pd.Series([o.description for o in self.objectives], dtype="str"),
            }
        )

    def themes_frame(self) -> pd.DataFrame:
        """Columns theme, objective, title, keywords (a list of str); file order."""
        return pd.DataFrame(
            {
                "theme": pd.Series([t.id for t in self.themes], dtype="str"),
                "objective": pd.Series([t.objective for t in self.themes], dtype="str"),
                "title": pd.Series([t.title for t in self.themes], dtype="str"),
                "keywords": pd.Series([list(t.keywords) for t in self.themes], dtype="object"),
            }
        )

    def indicators_frame(self) -> pd.DataFrame:
        """Columns indicator_id (int64), indicator_name, polarity, calculator, multiplier,
        objective, theme (missing when none), goal (NaN when none), subject (missing
        when none); file order."""
        items = self.indicators
        return pd.DataFrame(
            {
                "indicator_id": pd.Series([i.id for i in items], dtype="int64"),
                "indicator_name": pd.Series([i.name for i in items], dtype="str"),
                "polarity": pd.Series([i.polarity for i in items], dtype="str"),
                "calculator": pd.Series([i.calculator for i in items], dtype="str"),
                "multiplier": pd.Series([i.multiplier for i in items], dtype="float64"),
                "objective": pd.Series([i.objective for i in items], dtype="str"),
                "theme": pd.Series([i.theme for i in items], dtype="str"),
                "goal": pd.Series([i.goal for i in items], dtype="float64"),
                "subject": pd.Series([i.subject for i in items], dtype="str"),
            }
        )

    def stakeholders_frame(self) -> pd.DataFrame:
        """Columns organisation, sector; file order."""
        return pd.DataFrame(
            {
                "organisation": pd.Series([s.organisation for s in self.stakeholders], dtype="str"),
                "sector": pd.Series([s.sector for s in self.stakeholders], dtype="str"),
            }
        )


def reference_problems(strategy: Strategy) -> list[tuple[KeyPath, str]]:
    """Duplicate ids and dangling references in an otherwise well-typed strategy."""
    problems: list[tuple[KeyPath, str]] = []

    def unique(items: list, list_name: str, key, label: str, field: str) -> None:
        first_at: dict[Any, int] = {}
        for position, item in enumerate(items):
            value = key(item)
            if value in first_at:
                problems.append(
                    (
                        (list_name, position, field),
                        f"{label} {getattr(item, field)!r} is already used at "
                        f"{list_name}[{first_at[value]}]",
                    )
                )
            else:
                first_at[value] = position

    unique(strategy.objectives, "objectives", lambda o: o.id, "objective id", "id")
    unique(strategy.themes, "themes", lambda t: t.id, "theme id", "id")
    unique(strategy.indicators, "indicators", lambda i: i.id, "indicator id", "id")
    unique(
        strategy.stakeholders,
        "stakeholders",
        lambda s: _organisation_key(s.organisation),
        "organisation",
        "organisation",
    )

    objective_ids = [o.id for o in strategy.objectives]
    theme_objective = {t.id: t.objective for t in strategy.themes}

    def unknown(value: str, known: list[str], what: str) -> str:
        close = difflib.get_close_matches(value, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{value!r} is not the id of any {what} in this file{hint}"

    for position, theme in enumerate(strategy.themes):
        if theme.objective not in objective_ids:
            problems.append(
                (
                    ("themes", position, "objective"),
                    unknown(theme.objective, objective_ids, "objective"),
                )
            )
    for position, indicator in enumerate(strategy.indicators):
        if indicator.objective not in objective_ids:
            problems.append(
                (
                    ("indicators", position, "objective"),
                    unknown(indicator.objective, objective_ids, "objective"),
                )
            )
        if indicator.theme is None:
            continue
        if indicator.theme not in theme_objective:
            problems.append(
                (
                    ("indicators", position, "theme"),
                    unknown(indicator.theme, list(theme_objective), "theme"),
                )
            )
        elif (
            theme_objective[indicator.theme] != indicator.objective
            and theme_objective[indicator.theme] in objective_ids
        ):
            problems.append(
                (
                    ("indicators", position, "theme"),
                    f"theme {indicator.theme!r} sits under objective "
                    f"{theme_objective[indicator.theme]!r}, not {indicator.objective!r}",
                )
            )
    return problems


def format_key_path(path: KeyPath) -> str:
    """``("themes", 2, "objective")`` -> ``"themes[2].objective"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


# --- YAML with line numbers ---------------------------------------------------


def _index_lines(
    node: yaml.Node, path: KeyPath, line: int, lines: dict[KeyPath, int], file: Path
) -> None:
    """Record the 1-based line of every key path; reject a key repeated in one mapping."""
    lines[path] = line
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            key_line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{format_key_path(path + (key,))}: the key {key!r} appears twice in the "
                    f"same block (first on line {seen[key]}); keep one",
                    file=file,
                    line=key_line,
                )
            seen[key] = key_line
            _index_lines(value_node, path + (key,), key_line, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index_lines(item, path + (position,), item.start_mark.line + 1, lines, file)


def _line_of(path: KeyPath, lines: Mapping[KeyPath, int]) -> int | None:
    # A missing key has no line of its own: point at the nearest enclosing block.
    for end in range(len(path), -1, -1):
        candidate = tuple(str(p) if not isinstance(p, int) else p for p in path[:end])
        if candidate in lines:
            return lines[candidate]
    return None


def _describe(error: Mapping[str, Any], model_fields: Mapping[KeyPath, list[str]]) -> str:
    """One plain sentence for one pydantic error."""
    kind = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    if kind == "missing":
        return f"the required key {loc[-1]!r} is missing"
    if kind == "extra_forbidden":
        allowed = model_fields.get(_shape_of(loc[:-1]), [])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key {loc[-1]!r}; {hint}allowed keys: {', '.join(allowed)}"
    if kind == "literal_error":
        return f"{value!r} is not allowed here; use one of {error['ctx']['expected']}"
    if value is None and kind in {
        "list_type",
        "string_type",
        "int_type",
        "float_type",
        "model_type",
    }:
        return "this key has no value (an empty entry); fill it in or remove the key"
    if kind == "list_type":
        return f"expected a list (lines starting with '- ' or [a, b]), got {value!r}"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"expected a block of keys (key: value), got {value!r}"
    if kind == "too_short" and isinstance(value, (list, str)):
        return "this must not be empty"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    if kind.startswith(("string_", "int_", "float_")) and "input" in error:
        message = f"{message} (got {value!r})"
    return message


def _shape_of(loc: KeyPath) -> KeyPath:
    # Key path with list positions dropped: ("themes", 2) -> ("themes",)
    return tuple(part for part in loc if not isinstance(part, int))


_MODEL_FIELDS: dict[KeyPath, list[str]] = {
    (): list(Strategy.model_fields),
    ("objectives",): list(Objective.model_fields),
    ("themes",): list(Theme.model_fields),
    ("indicators",): list(IndicatorSpec.model_fields),
    ("stakeholders",): list(Stakeholder.model_fields),
}


def _problems_from(error: ValidationError) -> list[tuple[KeyPath, str]]:
    problems: list[tuple[KeyPath, str]] = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, StrategyReferenceError):
            problems.extend(cause.problems)
            continue
        problems.append((tuple(item["loc"]), _describe(item, _MODEL_FIELDS)))
    # Keep the first of any repeated problem.
    seen: set[tuple[KeyPath, str]] = set()
    unique = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique


def load_strategy(path: str | Path) -> Strategy:
    """Read and validate a strategy YAML file.

    Raises :class:`ConfigError` with ``file``, ``row`` (the 1-based LINE of the
    first problem) and a message starting with the key path
    (``themes[2].objective: 'actve-lives' is not the id of any objective in
    this file (did you mean 'active-lives'?)``). When there are several
    problems, the message lists each with its line; ``error.problems`` holds
    them as ``(line, key_path, message)`` tuples. The YAML is read by
    :func:`hwb_toolkit.io.yamlfile.load_yaml` (size and alias limits).
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError("file not found", file=path)
    data, root = load_yaml(path)
    if root is None:
        raise ConfigError("the file is empty", file=path)
    lines: dict[KeyPath, int] = {}
    _index_lines(root, (), root.start_mark.line + 1, lines, path)
    if not isinstance(data, dict):
        raise ConfigError(
            "the file must be a block of keys (name, vision, objectives, themes, indicators, "
            f"stakeholders), not {type(data).__name__}",
            file=path,
            line=root.start_mark.line + 1,
        )
    try:
        return Strategy.model_validate(data)
    except ValidationError as error:
        located = [(_line_of(loc, lines), loc, message) for loc, message in _problems_from(error)]
        located.sort(key=lambda p: (p[0] is None, p[0] or 0))
        raise _config_error(located, path) from None


def _config_error(located: list[tuple[int | None, KeyPath, str]], path: Path) -> ConfigError:
    first_line, first_path, first_message = located[0]
    message = f"{format_key_path(first_path)}: {first_message}"
    if len(located) > 1:
        others = "\n".join(
            f"  line {line}: {format_key_path(loc)}: {text}" for line, loc, text in located[1:]
        )
        message += f"\n  and {len(located) - 1} more problem(s):\n{others}"
    error = ConfigError(message, file=path, line=first_line)
    error.problems = located
    return error

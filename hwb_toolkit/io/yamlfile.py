"""Reading the workspace's YAML files: the one YAML loader (``strategy.yaml``, ``voices/sources.yaml``).

Role: I/O. :func:`load_yaml` gives the document's data and its node tree (for
line numbers), or one :class:`~hwb_toolkit.errors.ConfigError` naming the file
and line. It uses PyYAML's safe loader (plain data only: no Python objects),
with libyaml's parser when PyYAML was built with it (about seven times faster,
same nodes and marks), and limits that keep a hostile or broken file from
exhausting the machine:

- at most :data:`MAX_BYTES` of text (a strategy is a few kilobytes);
- at most :data:`MAX_NODES` entries with every alias written out. An alias
  (``*name``) repeats the block its anchor (``&name``) marks, so nested aliases
  multiply: nine lines of aliases to aliases stand for 10^9 entries (the
  "billion laughs"), which grew a process to 4.3 GB in 90 s. The count is made
  on the parser's events before anything is built, so it costs one pass;
- no alias inside its own anchor (a loop, which would never end).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hwb_toolkit.errors import ConfigError
from hwb_toolkit.io.tabular import decode_text

#: Largest YAML file read, in bytes.
MAX_BYTES = 1_000_000
#: Most entries (scalars, lists and blocks) a document may hold with its aliases written out.
MAX_NODES = 100_000

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | Path) -> tuple[Any, yaml.Node | None]:
    """Read a YAML file with one document; returns ``(data, root node)``.

    ``(None, None)`` for a file with no document (empty, or comments only).
    Raises :class:`ConfigError` (file, line) for a missing or unreadable file,
    bad YAML syntax, more than one document, or a file over the limits above.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError("file not found", file=path)
    if path.stat().st_size > MAX_BYTES:
        raise ConfigError(
            f"the file is {path.stat().st_size:,} bytes; a YAML file here may be at most "
            f"{MAX_BYTES:,}",
            file=path,
        )
    text = decode_text(path.read_bytes(), path)
    try:
        _check_expanded_size(text, path)
        loader = _SAFE_LOADER(text)
        try:
            root = loader.get_single_node()
            data = None if root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        detail = " ".join(part for part in (error.context, error.problem) if part)
        if (
            error.context_mark is not None
            and mark is not None
            and error.context_mark.line != mark.line
        ):
            detail += f" (the block started on line {error.context_mark.line + 1})"
        raise ConfigError(
            f"not valid YAML: {detail}",
            file=path,
            line=None if mark is None else mark.line + 1,
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"not valid YAML: {error}", file=path) from None
    except RecursionError:
        raise ConfigError("not valid YAML: the blocks are nested too deeply", file=path) from None
    return data, root


def _check_expanded_size(text: str, path: Path) -> None:
    """Count the document's entries as if every alias were written out; refuse too many."""
    entries = 0
    open_anchors: list[tuple[str | None, int]] = []  # (anchor, entries before it), innermost last
    sizes: dict[str, int] = {}
    for event in yaml.parse(text, Loader=_SAFE_LOADER):
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                if any(anchor == event.anchor for anchor, _ in open_anchors):
                    raise ConfigError(
                        f"the alias '*{event.anchor}' sits inside the block it repeats "
                        f"('&{event.anchor}'), which would never end",
                        file=path,
                        line=event.start_mark.line + 1,
                    )
                continue  # an undefined alias: the loader reports it with its line
            entries += sizes[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            entries += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            open_anchors.append((event.anchor, entries))
            entries += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = open_anchors.pop()
            if anchor is not None:
                sizes[anchor] = entries - before
        else:
            continue
        if entries > MAX_NODES:
            raise ConfigError(
                f"the file stands for more than {MAX_NODES:,} entries once its aliases "
                "('*name', which repeat the block marked '&name') are written out; "
                "write the entries out, or repeat fewer",
                file=path,
                line=event.start_mark.line + 1,
            )

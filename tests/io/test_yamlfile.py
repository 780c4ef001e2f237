"""Tests for hwb_toolkit.io.yamlfile: the one YAML loader, its lines and its limits."""

from __future__ import annotations

import time

import pytest

from hwb_toolkit.errors import ConfigError
from hwb_toolkit.io import yamlfile
from hwb_toolkit.io.yamlfile import MAX_NODES, load_yaml


def alias_bomb(levels: int, key: str = "lol") -> str:
    """The "billion laughs": each level repeats the one before ten times (10**levels entries)."""
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    lines.append(f"{key}: *a{levels}")
    return "\n".join(lines) + "\n"


def test_data_and_nodes_with_lines(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: Mini\nitems:\n  - &one {id: 1}\n  - *one\n", encoding="utf-8")
    data, root = load_yaml(path)
    assert data == {"name": "Mini", "items": [{"id": 1}, {"id": 1}]}  # a few aliases are fine
    assert root.value[1][1].start_mark.line + 1 == 3


def test_the_billion_laughs_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(9), encoding="utf-8")  # 10**9 entries once written out
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert time.perf_counter() - started < 5
    assert f"more than {MAX_NODES:,} entries once its aliases" in str(caught.value)
    assert caught.value.file == str(path) and caught.value.row == 6  # the line that tips it


def test_an_alias_inside_its_own_block_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("a: &loop\n  - 1\n  - *loop\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 3: the alias '\*loop' sits inside the block"):
        load_yaml(path)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(yamlfile, "MAX_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("key: " + "x" * 200 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="at most 100"):
        load_yaml(path)


def test_syntax_errors_name_the_line_and_empty_files_give_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML") as caught:
        load_yaml(path)
    assert caught.value.row is not None and caught.value.row_word == "line"
    path.write_text("# only a comment\n", encoding="utf-8")
    assert load_yaml(path) == (None, None)

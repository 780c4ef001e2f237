"""How long a published briefing takes to read: words, repeated sentences, reading time.

Measures a ``briefing.html`` as a board member reads it (issue 16's proof), the same way
before and after a change:

- words of the whole page and of its first part (text only: chart drawings, the page's
  table of contents and its CSS are not read, chart titles and captions are);
- words outside the marked detail (``<details>`` elements and anything inside an element
  with class ``hwb-detail``);
- the first part: the elements marked ``data-hwb-part="first"`` when the page marks one;
  on a page that marks none (the briefing before issue 16), everything before the first
  objective section (``hwb-objective``): the title, the headline, "at a glance" and
  "what changed";
- repeated sentences: sentences (ending in a full stop, question or exclamation mark) of
  five words or more in the page's prose (paragraphs, list items, captions, quotes, table
  cells) that appear more than once, compared ignoring case, spacing and quote marks; and,
  counted apart, repeated labels: headings and other unpunctuated texts of five words or
  more (a theme's name as a heading and as a table row, an action listed under two themes);
- reading minutes of the first part at 200 words a minute;
- optionally screenshots of the whole page at 1280 and 390 px wide (Chromium), with the
  page's height at each width.

    .venv/bin/python bench/briefing_reading.py reports/2026-12/E08000021/briefing.html
    .venv/bin/python bench/briefing_reading.py --build --workspace WS --area E08000021 \
        --period 2026-12 --screenshots test-output/before
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

WORDS_A_MINUTE = 200
#: Sentences shorter than this many words are labels ("Under way", "Not answered yet.").
MIN_SENTENCE_WORDS = 5
#: Elements whose text a reader does not read as prose.
_SKIPPED = ("svg", "style", "script", "nav")
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "figcaption", "td", "th", "summary", "blockquote", "dd", "dt")
_HEADINGS = ("h1", "h2", "h3", "h4", "th", "summary", "dt")
_ENDS_A_SENTENCE = re.compile(r"[.!?][\"”’)]*$")
_WORD = re.compile(r"[\w\u2019'’%£.,-]*\w[\w\u2019'’%£.,-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9])")


def _soup(page: str):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for tag in soup.find_all(_SKIPPED):
        tag.decompose()
    return soup


def _text(node) -> str:
    return " ".join(node.get_text(" ").split())


def count_words(text: str) -> int:
    """Words as a reader counts them: runs of letters or digits (``22.1%`` is one word)."""
    return len(_WORD.findall(text))


def _in_detail(node) -> bool:
    for parent in [node, *node.parents]:
        if getattr(parent, "name", None) == "details":
            return True
        if "hwb-detail" in (parent.get("class") or []) if hasattr(parent, "get") else False:
            return True
    return False


def _first_part_text(soup) -> str:
    marked = soup.select('[data-hwb-part="first"]')
    if marked:
        return " ".join(_text(node) for node in marked)
    body = soup.find("main") or soup
    first_objective = body.find(class_="hwb-objective")
    parts = []
    for string in body.find_all(string=True):
        if first_objective is not None and string.find_parent(class_="hwb-objective") is not None:
            break
        if first_objective is not None and _comes_after(string, first_objective):
            break
        parts.append(str(string))
    return " ".join(" ".join(parts).split())


def _comes_after(string, marker) -> bool:
    for element in marker.previous_elements:
        if element is string:
            return False
    return True


def _leaf_blocks(soup) -> list[tuple[str, str]]:
    """(tag, text) of block elements, innermost only (a list item's nested list is its own)."""
    blocks = []
    for node in soup.find_all(_BLOCKS):
        if node.find(_BLOCKS) is not None:
            # Take the text of the block without its nested blocks.
            copy = type(node)(node.parser, node.builder, node.name, node.namespace, node.prefix,
                              node.attrs)
            for child in node.children:
                if getattr(child, "name", None) not in _BLOCKS:
                    copy.append(child.__copy__() if hasattr(child, "__copy__") else str(child))
            blocks.append((node.name, _text(copy)))
        else:
            blocks.append((node.name, _text(node)))
    return [(tag, block) for tag, block in blocks if block]


def sentences(text: str) -> list[str]:
    """``text`` split into sentences at a full stop, question or exclamation mark."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def _normalised(sentence: str) -> str:
    text = sentence.casefold().replace("“", '"').replace("”", '"').replace("’", "'")
    return " ".join(re.sub(r"[\"'().,:;!?]", " ", text).split())


def repeated_sentences(soup, *, labels: bool = False) -> dict[str, int]:
    """Sentences (of MIN_SENTENCE_WORDS words or more, in prose, ending in a full stop,
    question or exclamation mark) that appear more than once, with counts; with ``labels``,
    the other texts of that length (headings, unpunctuated list items) that do."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for tag, block in _leaf_blocks(soup):
        for sentence in sentences(block):
            if count_words(sentence) < MIN_SENTENCE_WORDS:
                continue
            is_sentence = tag not in _HEADINGS and bool(_ENDS_A_SENTENCE.search(sentence))
            if is_sentence == labels:
                continue
            key = _normalised(sentence)
            counts[key] += 1
            shown.setdefault(key, sentence)
    return {shown[key]: n for key, n in counts.most_common() if n > 1}


def reading_figures(page: str) -> dict:
    """The figures of one briefing page (see the module docstring)."""
    soup = _soup(page)
    main = soup.find("main") or soup
    whole = _text(main)
    outside_detail = " ".join(
        str(s) for s in main.find_all(string=True) if not _in_detail(s.parent)
    )
    first = _first_part_text(soup)
    repeated = repeated_sentences(main)
    labels = repeated_sentences(main, labels=True)
    first_words = count_words(first)
    return {
        "words_whole": count_words(whole),
        "words_outside_detail": count_words(outside_detail),
        "words_first_part": first_words,
        "first_part_marked": bool(soup.select('[data-hwb-part="first"]')),
        "reading_minutes_first_part": round(first_words / WORDS_A_MINUTE, 1),
        "reading_minutes_whole": round(count_words(whole) / WORDS_A_MINUTE, 1),
        "repeated_sentences": len(repeated),
        "repeated_occurrences": sum(repeated.values()),
        "repeated_labels": len(labels),
        "repeated": repeated,
        "labels": labels,
        "ci_mentions": whole.count("95% CI"),
    }


def screenshots(path: Path, folder: Path, name: str = "briefing") -> dict[str, int]:
    """Full-page PNGs of ``path`` at 1280 and 390 px wide in ``folder``; returns page heights."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    folder.mkdir(parents=True, exist_ok=True)
    heights = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in ((1280, 800), (390, 844)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(path.resolve().as_uri())
                heights[f"height_{width}px"] = int(page.evaluate("document.documentElement.scrollHeight"))
                page.screenshot(path=str(folder / f"{name}-{width}px.png"), full_page=True)
                page.screenshot(path=str(folder / f"{name}-{width}px-first-screen.png"))
                page.close()
        finally:
            browser.close()
    return heights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("briefing", nargs="?", type=Path, help="a briefing.html to measure")
    parser.add_argument("--build", action="store_true", help="build the briefing first (hwb report)")
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--area", default="E08000021")
    parser.add_argument("--period", default="2026-12")
    parser.add_argument("--out", type=Path, default=Path("test-output/reading"))
    parser.add_argument("--screenshots", type=Path, help="folder for the screenshots")
    parser.add_argument("--show-repeats", action="store_true", help="list the repeated sentences")
    args = parser.parse_args(argv)
    path = args.briefing
    if args.build:
        if args.workspace is None:
            parser.error("--build needs --workspace")
        from hwb_toolkit.report.pipeline import build_report

        path = build_report(args.workspace, args.area, args.period, args.out) / "briefing.html"
    if path is None:
        parser.error("give a briefing.html or --build")
    figures = reading_figures(path.read_text(encoding="utf-8"))
    if args.screenshots:
        figures.update(screenshots(path, args.screenshots))
    repeated, labels = figures.pop("repeated"), figures.pop("labels")
    print(json.dumps(figures, indent=2))
    if args.show_repeats:
        for sentence, n in repeated.items():
            print(f"{n}x  {sentence}")
        for label, n in labels.items():
            print(f"{n}x  (label) {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

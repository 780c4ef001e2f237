"""Tests for hwb_toolkit.markup: what a browser would run or fetch, read from tags, never from text."""

from __future__ import annotations

import pytest

from hwb_toolkit import markup

TEXT_ONLY = (
    "<svg><text>Parkrun volunteers (members only = free)</text>"
    "<desc>javascript: a club; url(https://example.org); onload=1</desc></svg>"
)


def test_text_that_reads_like_markup_is_not_a_problem():
    assert markup.svg_problems(TEXT_ONLY) == []
    labelled = '<svg aria-label="members only = free, javascript:x" role="img"></svg>'
    assert markup.svg_problems(labelled) == []


@pytest.mark.parametrize(
    ("svg", "found"),
    [
        ("<svg><script>alert(1)</script></svg>", "a <script> element"),
        ('<svg onload="alert(1)"></svg>', "an event handler (onload=) on <svg>"),
        ('<svg><rect x="1"onclick="alert(1)"/></svg>', "an event handler (onclick=)"),
        ('<svg><a href=" java\tscript:alert(1)">x</a></svg>', "a script link in <a href>"),
        ('<svg><a xlink:href="&#x6A;avascript:alert(1)">x</a></svg>', "a script link"),
        ('<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>', "<animate>"),
        ("<svg><foreignObject><p>x</p></foreignObject></svg>", "a <foreignobject> element"),
        ("<svg><style><img src=x onerror=alert(1)></style></svg>", "markup inside a <style>"),
        ('<svg><image href="https://example.org/a.png"/></svg>', "a reference to <image href>"),
    ],
)
def test_active_content_and_references_are_found_in_the_markup(svg, found):
    problems = markup.svg_problems(svg)
    assert problems and found in problems[0]


@pytest.mark.parametrize(
    "svg",
    [TEXT_ONLY, '<svg><g class="on"><rect/></g></svg>', '<svg><text>on = off</text></svg>',
     '<svg><SCRIPT>1</SCRIPT></svg>', '<svg><rect ONMOUSEOVER="x"/></svg>'],
)
def test_the_quick_check_never_skips_what_the_parse_would_find(svg):
    finder = markup._ActiveContentFinder()
    finder.feed(svg)
    finder.close()
    if finder.found:
        assert markup.svg_problems(svg)[: len(finder.found)] == finder.found

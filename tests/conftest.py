"""Shared test fixtures: where the reference oracles live, and a marker to skip without them."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = REPO_ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The ../shared/reference folder of oracles; skips the test when it is absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (clone with ../shared beside it)")
    return REFERENCE


#: Debian's Chromium (Playwright cannot download its own browser on these machines).
CHROMIUM = Path("/usr/bin/chromium")
#: Flags that keep Chromium from reaching for hosts this closed network cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright, shared by every browser test.

    One Playwright per test process: its sync API keeps an event loop marked as
    running in the main thread while it is started, so a second
    ``sync_playwright()`` (or ``asyncio.run``) in the same thread would fail.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()

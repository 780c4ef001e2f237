"""How contributions are filed under themes now, against an earlier commit, on the example.

For issue 16 ("voices named and filed well"): runs the themes engine of ``--base`` (default
84dbf04, before the change) on that commit's example workspace and today's engine on
today's example workspace, and prints, for each strategy theme, how many contributions it
holds then and now, how many it gains and loses, and examples; then the discovered themes'
names then and now. Contributions are matched by id (the example's ids are stable); poll
statements are left out, as the briefing leaves them out of the themes.

    .venv/bin/python bench/theme_filing.py [--base 84dbf04] [--examples 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = "hwb_toolkit/example_workspace"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout


def _old_example(base: str, folder: Path) -> Path:
    """The example workspace's strategy and voices as they were at ``base``."""
    for path in _git("ls-tree", "-r", "--name-only", base, EXAMPLE).split():
        if path.endswith((".yaml", ".csv")) and "/indicators/" not in path and "actions" not in path:
            target = folder / Path(path).relative_to(EXAMPLE)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_git("show", f"{base}:{path}"), encoding="utf-8")
    return folder


def _old_engine(base: str, folder: Path):
    source = folder / "themes_then.py"
    source.write_text(_git("show", f"{base}:hwb_toolkit/voices/themes.py"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("themes_then", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules["themes_then"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def _filing(find_themes, workspace: Path) -> tuple[dict[str, set[str]], pd.DataFrame, pd.DataFrame]:
    """{contribution id: theme ids it sits under}, the themes table and the contributions."""
    from hwb_toolkit.workspace import Workspace

    ws = Workspace.open(workspace)
    contributions = ws.contributions(include_store=False)
    said = contributions[contributions["kind"].astype(str) != "statement"].reset_index(drop=True)
    result = find_themes(said, ws.strategy)
    filed = {}
    for row in result.assignments.to_dict("records"):
        themes = row.get("themes")
        if not isinstance(themes, list):
            themes = [] if pd.isna(row["theme"]) else [row["theme"]]
        filed[str(row["contribution_id"])] = set(themes)
    return filed, result.themes, said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="84dbf04", help="the commit to compare with")
    parser.add_argument("--examples", type=int, default=2, help="examples of gains and losses per theme")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from hwb_toolkit.voices.themes import find_themes
    from hwb_toolkit.workspace import Workspace

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        old_engine = _old_engine(args.base, scratch)
        then, then_themes, _ = _filing(old_engine.find_themes, _old_example(args.base, scratch / "then"))
    now, now_themes, said = _filing(find_themes, REPO / EXAMPLE)
    texts = dict(zip(said["contribution_id"].astype(str), said["text"].astype(str), strict=True))
    common = sorted(set(then) & set(now))
    strategy = Workspace.open(REPO / EXAMPLE).strategy
    print(f"Contributions compared: {len(common)} (poll statements left out); "
          f"under two themes or more now: {sum(len(now[i]) > 1 for i in common)}.\n")
    print("| theme | then | now | gains | loses |")
    print("|---|---:|---:|---:|---:|")
    examples = []
    for theme in strategy.themes:
        before = {i for i in common if theme.id in then[i]}
        after = {i for i in common if theme.id in now[i]}
        gains, losses = sorted(after - before), sorted(before - after)
        print(f"| {theme.title} | {len(before)} | {len(after)} | {len(gains)} | {len(losses)} |")
        for kind, ids in (("gains", gains), ("loses", losses)):
            examples += [f"- {theme.title} {kind} {i}: {texts.get(i, '')[:90]}" for i in ids[: args.examples]]
    discovered_then = {i for i in common if any(t.startswith("discovered") for t in then[i])}
    discovered_now = {i for i in common if any(t.startswith("discovered") for t in now[i])}
    unthemed_then = {i for i in common if not then[i]}
    unthemed_now = {i for i in common if not now[i]}
    print(f"| (discovered themes) | {len(discovered_then)} | {len(discovered_now)} | "
          f"{len(discovered_now - discovered_then)} | {len(discovered_then - discovered_now)} |")
    print(f"| (no theme) | {len(unthemed_then)} | {len(unthemed_now)} | "
          f"{len(unthemed_now - unthemed_then)} | {len(unthemed_then - unthemed_now)} |")
    print("\nDiscovered themes then: " + "; ".join(
        f"{r['label']} ({r['size']})" for r in then_themes[then_themes["origin"] == "discovered"].to_dict("records")))
    print("Discovered themes now: " + "; ".join(
        f"{r['label']} ({r['size']})" for r in now_themes[now_themes["origin"] == "discovered"].to_dict("records")))
    print("\nExamples:")
    print("\n".join(examples))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The installed package: a wheel built from the repository, installed into a fresh virtual
environment in an empty folder far from the checkout, runs ``hwb init``, ``hwb report``,
``hwb batch`` and ``hwb serve`` as the README describes.

The dependencies are installed offline from a wheelhouse (``$HWB_WHEELHOUSE``, default
``~/.cache/hwb-toolkit/wheelhouse``) filled once by ``pip download`` with the versions this
project's own environment has, so later runs download nothing; the wheel itself is built
with the project environment's pinned hatchling (``--no-build-isolation``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(os.environ.get("HWB_WHEELHOUSE", Path.home() / ".cache" / "hwb-toolkit" / "wheelhouse"))
AREAS = ("E08000021", "E06000047")
PERIOD = "2026-11"

pytestmark = pytest.mark.slow


def _run(command: list, *, cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _clean_environment(home: Path) -> dict[str, str]:
    """The environment of a person who installed the wheel: nothing points at the checkout."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "HWB_WORKSPACE", "HWB_REPORTS",
                          "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR")}
    env["HOME"] = str(home)  # Jupyter's runtime and data folders, Jinja's cache: all fresh
    # ...but pip's download cache is the machine's, so filling the wheelhouse reuses what
    # `make setup` downloaded instead of fetching every dependency again.
    env.setdefault("PIP_CACHE_DIR", subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True).stdout.strip()
        or str(Path.home() / ".cache" / "pip"))
    env.pop("XDG_RUNTIME_DIR", None)
    return env


def _fill_wheelhouse(wheel: Path, env: dict) -> None:
    """Download the wheel's dependencies, in this environment's versions, into the wheelhouse."""
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    constraints = WHEELHOUSE / "constraints.txt"
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    constraints.write_text("\n".join(line for line in frozen.splitlines()
                                     if "==" in line and not line.startswith("hwb-toolkit")) + "\n")
    _run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", WHEELHOUSE,
          "--only-binary", ":all:", "-c", constraints, wheel], cwd=WHEELHOUSE, env=env)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, timeout: float = 120) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def test_the_wheel_installed_far_from_the_checkout_runs_init_report_batch_and_serve(tmp_path):
    timings: dict[str, float] = {}
    started = time.perf_counter()
    home, dist, place = tmp_path / "home", tmp_path / "dist", tmp_path / "elsewhere"
    for folder in (home, dist, place):
        folder.mkdir()
    env = _clean_environment(home)

    # Build: the project's notebooks/ and templates/ go inside the package.
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--wheel-dir", dist, REPO_ROOT], cwd=place, env=env)
    (wheel,) = dist.glob("hwb_toolkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("hwb_toolkit/notebooks/monthly_briefing.ipynb",
                    "hwb_toolkit/notebooks/explorer.ipynb",
                    "hwb_toolkit/templates/headline.html.j2",
                    "hwb_toolkit/templates/nbconvert/hwb_report/index.html.j2",
                    "hwb_toolkit/example_workspace/strategy.yaml",
                    "hwb_toolkit/apps/voila.json",
                    "hwb_toolkit/apps/live/static/live.js"):
        assert shipped in names, f"{shipped} is not in the wheel"
    timings["build"] = time.perf_counter() - started

    # Install into a fresh environment, offline (the wheelhouse is filled on first use).
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=place, env=env)
    python, hwb = venv / "bin" / "python", venv / "bin" / "hwb"
    install = [python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", WHEELHOUSE,
               wheel]
    if subprocess.run([str(part) for part in install], cwd=place, env=env,
                      capture_output=True).returncode != 0:
        _fill_wheelhouse(wheel, env)
        _run(install, cwd=place, env=env)
    timings["install"] = time.perf_counter() - started - timings["build"]

    where = _run([python, "-c", "import hwb_toolkit.resources as r; print(r.notebooks_dir())"],
                 cwd=place, env=env).stdout.strip()
    assert Path(where).is_relative_to(venv), f"the notebooks were found at {where}, not in the install"
    assert _run([hwb, "--version"], cwd=place, env=env).stdout.startswith("hwb-toolkit ")

    # hwb init, report and batch, in an empty folder.
    _run([hwb, "init", "workspace"], cwd=place, env=env)
    _run([hwb, "report", "--workspace", "workspace", "--area", AREAS[0], "--period", PERIOD],
         cwd=place, env=env)
    report = place / "reports" / PERIOD / AREAS[0]
    page = (report / "briefing.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<h1" in page
    assert (report / "summary.json").is_file()
    _run([hwb, "batch", "--workspace", "workspace", "--period", PERIOD, "--areas", ",".join(AREAS),
          "--workers", "2", "--force"], cwd=place, env=env)
    for area in AREAS:
        assert (place / "reports" / PERIOD / area / "briefing.html").is_file()
    assert (place / "reports" / PERIOD / "index.html").is_file()
    timings["init, report and batch"] = (time.perf_counter() - started - timings["build"]
                                         - timings["install"])

    # hwb serve: a page with its kernel, a live page and a published briefing, then Ctrl-C.
    port = _free_port()
    log = (place / "serve.log").open("wb")
    server = subprocess.Popen([str(hwb), "serve", "--workspace", "workspace", "--port", str(port)],
                              cwd=place, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _ = _get(f"{base}/j", timeout=5)
                break
            except OSError:
                assert server.poll() is None, (place / "serve.log").read_text()
                assert time.monotonic() < deadline, "hwb serve did not answer"
                time.sleep(0.3)
        assert status == 200
        status, body = _get(f"{base}/voila/render/explorer.ipynb")
        assert status == 200 and "hwb-page" in body, body[-2000:]
        status, body = _get(f"{base}/reports/{PERIOD}/{AREAS[0]}/briefing.html")
        assert status == 200 and "<svg" in body
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    timings["serve"] = time.perf_counter() - started - sum(timings.values())
    print("wheel test: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()))

"""``hwb serve``: the partner pages in Voila, with the committed configuration.

Role: floor 4 (UI serving). :func:`serve` prints the pages' addresses and runs a Voila
server configured by ``hwb_toolkit/apps/voila.json`` (committed; nothing is read from the
current folder or the user's Jupyter config) plus the few settings that depend on the
call (port, token, folders):

- **Only the pages and the reports.** Voila's ``root_dir`` is a fresh serving folder
  holding copies of the app notebooks (``explorer``, ``workshop``, ``actions``; never the
  briefing notebook). Voila's ``/voila/files/`` handler serves nothing
  (``file_allowlist`` empty). The month's briefings are served read-only under
  ``/reports/<period>/<area>/briefing.html`` by :class:`ReportsHandler`, which serves only
  the pipeline's published files (no hidden folders such as ``.prepared``, nothing that
  resolves outside the reports folder).
- **No code, no tracebacks.** ``strip_sources``; ``show_tracebacks`` off, with plain
  messages instead of Voila's "run Voila with --show_tracebacks" text.
- **Nothing from the internet.** The ``hwb`` Voila template is Voila's ``lab`` template
  minus its two Font Awesome links to a CDN (:func:`local_only`; the icons are already in
  Voila's bundle). ``jupyterlab-jupytext`` is kept out of the page (it errors there).
- **Kernels.** The workspace reaches the kernels as ``HWB_WORKSPACE``, the reports
  folder as ``HWB_REPORTS``. Idle kernels are culled (15 min), each cell has a time
  limit (120 s), and a page's kernel is shut down when the page is closed (Voila's
  shutdown beacon needs the ``_xsrf`` cookie, which Voila never sets: see
  ``PageHandler`` in :func:`_handlers_module`; without it every visit leaked a kernel:
  measured with plain Voila and a one-Dropdown-and-chart page, load 146 took 24 s and
  load 147 never appeared, with 146 idle kernels holding all 23 GB of memory). Kernels
  talk to the server over IPC sockets (files in Voila's private connection folder), so
  kernels started at once by several servers cannot race for the same TCP port.
  ``preheat=True`` keeps a warm pool of kernels per page with the page already run
  (measured: Explorer interactive in 1.7 s instead of 2.9 s; no failed load either way),
  except the Workshop: its page waits for the visitor's address (facilitator or
  participant), so a pooled Workshop kernel that nobody claimed within the cell time
  limit (120 s) timed out and served "took too long" to the next visitor.
- **Many visitors at once.** At most ``max_kernels`` page kernels run at once (default
  sized to the memory free); beyond that a visitor gets a plain "busy, try again in a
  minute" page, and a kernel whose page's browser never connects is shut down after
  30 s of quiet (:mod:`hwb_toolkit.apps.page_kernels`).
- **Token.** ``token=None`` serves without one (the default host is 127.0.0.1 only);
  with a token every request must carry it (``?token=...`` once; a cookie after that).

A page's cell ends only once all of its output has been read, under the cell's own time
limit (``VoilaExecutor.iopub_timeout`` and ``raise_on_iopub_timeout`` in ``voila.json``).
This was the cause of the pages that never became interactive when several were opened
at once ("Timeout waiting for IOPub output" in the server log): nbclient takes the
kernel's reply as the end of a cell and gives the cell's output only 4 s more to be
read; a page's widget is its cell's last output, after about 70 ``comm_open`` messages,
and one server process reading the output of N busy kernels gets about 1/(N+1) of the
processors, so the widget was often still unread and the page was sent without it.
Measured, 15 Explorer pages opened at once on 2 cores: 10 of 15 sent without their
widget before, 15 of 15 interactive after (``bench/bench_pages.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import SimpleNamespace

from markupsafe import Markup

from hwb_toolkit.resources import notebooks_dir

APP_PAGES = ("explorer.ipynb", "workshop.ipynb", "actions.ipynb")
DEFAULT_PORT = 8866
DEFAULT_HOST = "127.0.0.1"
APPS_DIR = Path(__file__).resolve().parent
#: The committed Voila configuration (traitlets JSON).
CONFIG_FILE = APPS_DIR / "voila.json"
TEMPLATE_NAME = "hwb"
#: URL prefix of the reports (``/reports/<period>/<area>/briefing.html``).
REPORTS_URL = "reports"
#: Files of the reports folder that may be served: the pipeline's published outputs.
REPORT_FILE_PATTERN = re.compile(
    r"(?:index\.html|manifest\.json"
    r"|\d{4}-\d{2}/(?:index\.html|manifest\.json"
    r"|[A-Za-z0-9_-]+/(?:briefing\.html|summary\.json)))"
)

#: A published briefing is self-contained HTML (inline styles, SVG charts): it may load
#: nothing, run nothing and be framed by nobody.
REPORT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_TEMPLATE_CONF = """{
  "base_template": "lab",
  "mimetypes": {"text/html": true},
  "preprocessors": {
    "100-pygments": {"type": "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor", "enabled": true}
  }
}
"""
_TEMPLATE_INDEX = """{#- hwb-toolkit: Voila's lab template with nothing fetched from outside this server
    (hwb_local_only = hwb_toolkit.apps.serve.local_only, registered in apps/voila.json). -#}
{%- extends 'voila/templates/lab/index.html.j2' -%}
{%- block notebook_css -%}
{{ super() | hwb_local_only }}
{%- endblock notebook_css -%}
"""

_EXTERNAL_TAG = re.compile(
    r"<(?:link|script)\b[^>]*\b(?:href|src)\s*=\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?//[^>]*>"
    r"(?:\s*</script>)?",
    re.IGNORECASE,
)


def local_only(html: str) -> Markup:
    """``html`` without any ``<link>`` or ``<script>`` that loads from another host.

    A Jinja filter for the ``hwb`` Voila template: Voila's lab template links Font
    Awesome on a CDN, which an offline partner's browser cannot reach (and need not:
    Voila bundles the same icons).
    """
    return Markup(_EXTERNAL_TAG.sub("", str(html)))


def install_template(data_dir: str | Path) -> Path:
    """Write the ``hwb`` Voila template into ``<data_dir>/voila/templates/hwb`` (a Jupyter
    data directory, e.g. one on ``JUPYTER_PATH``) and return that folder."""
    folder = Path(data_dir) / "voila" / "templates" / TEMPLATE_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conf.json").write_text(_TEMPLATE_CONF)
    (folder / "index.html.j2").write_text(_TEMPLATE_INDEX)
    return folder


def install_jupyter_config(config_dir: str | Path, data_dir: str | Path) -> Path:
    """Configure Voila inside a Jupyter server (Binder) as ``hwb serve`` configures it.

    Writes the ``hwb`` template into the Jupyter data directory ``data_dir`` and, into
    ``<config_dir>/jupyter_server_config.d/hwb-voila.json``, the page settings of
    :data:`CONFIG_FILE`. Returns the configuration file written.
    """
    install_template(data_dir)
    committed = json.loads(CONFIG_FILE.read_text())
    settings = {key: value for key, value in committed.items() if key != "Voila"}
    target = Path(config_dir) / "jupyter_server_config.d" / "hwb-voila.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(settings, indent=2) + "\n")
    return target


def prepare_pages(source: str | Path, destination: str | Path,
                  names: Iterable[str] | None = None) -> list[Path]:
    """Copy the page notebooks from ``source`` into ``destination`` (the folder Voila serves).

    ``names`` defaults to :data:`APP_PAGES` when ``source`` is the repository's notebooks
    folder (so the briefing notebook is never served), and to every ``*.ipynb`` of
    ``source`` otherwise. Missing pages are skipped. Returns the copies.
    """
    source, destination = Path(source), Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    if names is None:
        if source.resolve() == notebooks_dir().resolve():
            names = APP_PAGES
        else:
            names = sorted(path.name for path in source.glob("*.ipynb"))
    copies = []
    for name in names:
        page = source / name
        if page.is_file():
            shutil.copy2(page, destination / name)
            copies.append(destination / name)
    return copies


def page_urls(port: int = DEFAULT_PORT, token: str | None = None, host: str = DEFAULT_HOST,
              pages: Sequence[str] = APP_PAGES) -> dict[str, str]:
    """The address of each page, e.g. ``{"explorer": "http://127.0.0.1:8866/voila/render/explorer.ipynb"}``."""
    query = f"?token={token}" if token else ""
    return {
        Path(name).stem: f"http://{host}:{port}/voila/render/{name}{query}" for name in pages
    }


def _handlers_module():
    """Tornado handlers, built on first use (importing Voila is slow and not needed elsewhere)."""
    import tornado.web
    from voila.tornado.handler import TornadoVoilaHandler

    from hwb_toolkit.apps.page_kernels import (
        BUSY_PAGE,
        LOADING_COOKIE,
        LOADING_COOKIE_SECONDS,
        PAGE_KERNEL_CALLBACK,
        RETRY_AFTER_SECONDS,
        PageKernelsFull,
    )

    class PageHandler(TornadoVoilaHandler):
        """Voila's page handler, plus the ``_xsrf`` cookie and the kernel cap.

        When a page is closed, Voila's front end posts a shutdown beacon for the page's
        kernel with the ``_xsrf`` value read from ``document.cookie``; Voila never sets
        that cookie, so the beacon is refused (403) and every visit leaves its kernel
        running until culled. Reading ``self.xsrf_token`` sets the cookie.

        When the kernel manager (:class:`~hwb_toolkit.apps.page_kernels.PageKernelManager`)
        has no room for another page kernel, the visitor gets the busy page (503 with
        ``Retry-After``) and no kernel is started. Otherwise the page's response sets the
        cookie by which the manager knows the browser is still loading the page.
        """

        async def prepare(self):
            result = super().prepare()
            if result is not None:
                await result
            self.xsrf_token  # noqa: B018 - the property sets the cookie

        @tornado.web.authenticated
        async def get(self, path=None):
            is_full = getattr(self.kernel_manager, "is_full", None)
            if is_full is not None and is_full():
                return self.write_busy_page()
            PAGE_KERNEL_CALLBACK.set(self.mark_loading)  # this request's own context
            try:
                await super().get(path)
            except PageKernelsFull:  # filled up while this page was being prepared
                self.write_busy_page()

        def mark_loading(self, kernel_id: str) -> None:
            self.set_cookie(f"{LOADING_COOKIE}{kernel_id}", "1", path=self.base_url,
                            max_age=LOADING_COOKIE_SECONDS, httponly=True, samesite="Strict")

        def write_busy_page(self) -> None:
            self.clear()
            self.set_status(503)
            self.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(BUSY_PAGE)

    from jupyter_server.base.handlers import JupyterHandler

    class ReportsHandler(JupyterHandler, tornado.web.StaticFileHandler):
        """Serves the pipeline's published report files, read only, and nothing else; with
        the server's token when it has one (Jupyter's own login check), and headers that let
        a briefing run nothing and load nothing (:data:`REPORT_SECURITY_POLICY`).

        Not Jupyter's ``AuthenticatedFileHandler``: that one also refuses a GET with no
        same-site referrer, i.e. a briefing opened from a link in an email."""

        @property
        def content_security_policy(self) -> str:
            return REPORT_SECURITY_POLICY

        @tornado.web.authenticated
        def get(self, path: str, include_body: bool = True):
            return tornado.web.StaticFileHandler.get(self, path, include_body)

        @tornado.web.authenticated
        def head(self, path: str):
            return tornado.web.StaticFileHandler.head(self, path)

        def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
            relative = os.path.relpath(absolute_path, root).replace(os.sep, "/")
            if not REPORT_FILE_PATTERN.fullmatch(relative):
                raise tornado.web.HTTPError(404)
            real_root = os.path.realpath(root)
            real_path = os.path.realpath(absolute_path)
            if os.path.commonpath([real_root, real_path]) != real_root:
                raise tornado.web.HTTPError(404)
            return super().validate_absolute_path(root, absolute_path)

    from voila.static_file_handler import TemplateStaticFileHandler

    class TemplateFilesHandler(TemplateStaticFileHandler):
        """Voila's template static files, refusing ``..`` (Voila answers it with a 500)."""

        def parse_url_path(self, url_path: str) -> str:
            if ".." in url_path.replace("\\", "/").split("/"):
                raise tornado.web.HTTPError(404)
            return super().parse_url_path(url_path)

    return PageHandler, ReportsHandler, TemplateFilesHandler


def voila_app_class():
    """The Voila application class ``hwb serve`` runs (Voila plus the reports handler,
    the page handler with the ``_xsrf`` cookie)."""
    import tornado.web
    from jupyter_server.utils import url_path_join
    from traitlets import Unicode
    from voila.app import Voila
    from voila.static_file_handler import TemplateStaticFileHandler
    from voila.tornado.handler import TornadoVoilaHandler

    from hwb_toolkit.apps.page_kernels import note_page_files

    PageHandler, ReportsHandler, TemplateFilesHandler = _handlers_module()
    replacements = {TornadoVoilaHandler: PageHandler, TemplateStaticFileHandler: TemplateFilesHandler}

    class HwbVoila(Voila):
        reports_dir = Unicode("", config=True, help="Folder of the pipeline's reports to serve.")
        workspace_dir = Unicode("", config=True,
                                help="The workspace whose live workshop sessions are served.")
        public_url = Unicode("", config=True,
                             help="Address phones use to reach this server (join screens).")

        def initialize(self, argv=None):
            super().initialize(argv)

        def init_settings(self):
            settings = super().init_settings()
            settings["log_function"] = self.log_request
            return settings

        def log_request(self, handler) -> None:
            """Tornado's log line for every finished request, after noting the request as
            a sign of the browsers still loading a page (page_kernels.note_page_files)."""
            if hasattr(self.kernel_manager, "browser_seen"):
                note_page_files(self.kernel_manager, handler)
            # Tornado's own log line (used when no log_function is set):
            tornado.web.Application.log_request(SimpleNamespace(settings={}), handler)

        def init_handlers(self):
            handlers = []
            for handler in super().init_handlers():
                if handler[1] in replacements:
                    handler = (handler[0], replacements[handler[1]], *handler[2:])
                handlers.append(handler)
            if self.reports_dir:
                handlers.insert(0, (
                    url_path_join(self.server_url, rf"/{REPORTS_URL}/(.*)"),
                    ReportsHandler,
                    {"path": self.reports_dir},
                ))
            if self.workspace_dir:
                handlers[0:0] = live_handlers_for(self)
            return handlers

    def live_handlers_for(app) -> list[tuple]:
        from hwb_toolkit.apps.live.handlers import LiveSettings, live_handlers
        from hwb_toolkit.apps.live.hub import LiveHub

        app.live_hub = LiveHub(app.workspace_dir)
        settings = LiveSettings(app.live_hub, public_url=app.public_url or None, host=app.ip,
                                port=app.port)
        return live_handlers(settings, app.server_url)

    return HwbVoila


def voila_argv(root_dir: Path, *, port: int, token: str | None, reports: Path,
               host: str = DEFAULT_HOST, preheat: bool = False, pool_size: int = 1,
               workspace: Path | None = None, public_url: str | None = None,
               max_kernels: int = 0, extra: Sequence[str] = ()) -> list[str]:
    """The command-line settings passed to Voila on top of :data:`CONFIG_FILE`
    (``max_kernels`` 0: the kernel manager sizes the cap to the memory free)."""
    argv = [
        str(root_dir),
        f"--Voila.config_file_paths={[str(APPS_DIR)]!r}".replace("'", '"'),
        f"--Voila.port={port}",
        f"--Voila.ip={host}",
        "--Voila.port_retries=0",
        f"--HwbVoila.reports_dir={reports}",
        f"--Voila.token={token or ''}",
        f"--PageKernelManager.max_kernels={max_kernels}",
    ]
    if workspace is not None:
        argv.append(f"--HwbVoila.workspace_dir={workspace}")
    if public_url:
        argv.append(f"--HwbVoila.public_url={public_url}")
    if preheat:
        argv += ["--VoilaConfiguration.preheat_kernel=True",
                 f"--VoilaConfiguration.default_pool_size={pool_size}"]
    return argv + list(extra)


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`~hwb_toolkit.errors.ConfigError` if ``host:port`` cannot be listened on.

    Binds and closes a socket as Voila would (``SO_REUSEADDR``, so a port left in
    TIME_WAIT by a server that just stopped counts as free), so that a busy port is
    reported before the pages' addresses are printed rather than after.
    """
    import socket

    from hwb_toolkit.errors import ConfigError

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise ConfigError(
            f"cannot serve on {host}:{port}: {error.strerror or error} (is another "
            "'hwb serve' running?); stop it or choose another port with --port"
        ) from None


def serve(workspace: str | Path, port: int = DEFAULT_PORT, token: str | None = None, *,
          reports: str | Path | None = None, pages: str | Path | None = None,
          host: str = DEFAULT_HOST, preheat: bool = False, pool_size: int = 1,
          max_kernels: int | None = None, public_url: str | None = None,
          extra_voila_args: Sequence[str] = ()) -> None:
    """Serve the partner pages for ``workspace`` until interrupted (Ctrl-C).

    ``reports`` is the pipeline's output folder (default ``./reports``, as ``hwb batch``);
    ``pages`` a folder of page notebooks (default the repository's ``notebooks/``, of
    which only :data:`APP_PAGES` are served). ``token`` (optional) is then required by
    every page. ``preheat`` keeps ``pool_size`` kernels per page started and the page
    already run, so a visit is served at once. ``max_kernels`` is the most pages open at
    once (each holds a kernel; default: as many as the memory free now allows, see
    :func:`~hwb_toolkit.apps.page_kernels.default_max_kernels`); beyond it a visitor is
    asked to try again in a minute. The live event pages (:mod:`hwb_toolkit.apps.live`),
    which hold no kernel, are served on the same port; ``public_url`` is the address
    phones use to reach it (shown on join screens; default: this computer's address on its
    local network when ``host`` is 0.0.0.0). Prints the addresses and the cap first.
    Raises :class:`~hwb_toolkit.errors.ConfigError` if ``workspace`` is not a workspace,
    if ``max_kernels`` is below 1, or if the port is taken (before any address is printed).
    """
    from hwb_toolkit.apps.common import REPORTS_ENV, WORKSPACE_ENV
    from hwb_toolkit.errors import ConfigError
    from hwb_toolkit.workspace import Workspace

    workspace_root = Workspace.open(workspace).root
    if max_kernels is not None and max_kernels < 1:
        raise ConfigError(f"--max-kernels must be at least 1 (got {max_kernels})")
    if max_kernels is None:
        from hwb_toolkit.apps.page_kernels import default_max_kernels

        max_kernels = default_max_kernels()
        sized = "sized to the memory free now; --max-kernels to change"
    else:
        sized = "set by --max-kernels"
    reports_dir = Path(reports if reports is not None else "reports").resolve()
    reports_dir.mkdir(parents=True, exist_ok=True)
    pages_source = Path(pages) if pages is not None else notebooks_dir()

    serving = Path(tempfile.mkdtemp(prefix="hwb-serve-"))
    try:
        root_dir = serving / "pages"
        copies = prepare_pages(pages_source, root_dir)
        if not copies:
            raise ConfigError("no page notebooks to serve", file=pages_source)
        data_dir = serving / "share"
        install_template(data_dir)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            [str(data_dir)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
        )
        os.environ[WORKSPACE_ENV] = str(workspace_root)
        os.environ[REPORTS_ENV] = str(reports_dir)

        check_port_free(host, port)
        print("hwb serve: the partner pages are at", flush=True)
        for name, url in page_urls(port, token, host, [c.name for c in copies]).items():
            print(f"  {name:<10} {url}", flush=True)
        print(f"  {'reports':<10} http://{host}:{port}/{REPORTS_URL}/<period>/<area>/briefing.html",
              flush=True)
        print(f"  {'join':<10} http://{host}:{port}/j  (participants of a live event type "
              "their session's code here)", flush=True)
        pages_word = "page" if max_kernels == 1 else "pages"
        print(f"At most {max_kernels} {pages_word} open at once ({sized}); beyond that,"
              " visitors are asked to try again in a minute.", flush=True)
        print("Press Ctrl-C to stop.", flush=True)

        app_class = voila_app_class()
        app_class.launch_instance(argv=voila_argv(
            root_dir, port=port, token=token, reports=reports_dir, host=host,
            preheat=preheat, pool_size=pool_size, max_kernels=max_kernels,
            workspace=workspace_root, public_url=public_url, extra=extra_voila_args,
        ))
    finally:
        shutil.rmtree(serving, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m hwb_toolkit.apps.serve --workspace W [--port P] [--token T] ...``"""
    parser = argparse.ArgumentParser(prog="hwb serve", description=serve.__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="workspace")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--token", default=None)
    parser.add_argument("--reports", default=None)
    parser.add_argument("--pages", default=None)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--preheat", action="store_true")
    parser.add_argument("--pool-size", type=int, default=1)
    parser.add_argument("--public-url", default=None)
    parser.add_argument("--max-kernels", type=int, default=None,
                        help="most pages open at once (default: sized to the memory free)")
    parser.add_argument("--install-jupyter-config", nargs=2, metavar=("CONFIG_DIR", "DATA_DIR"),
                        help="configure Voila in a Jupyter server (Binder) and exit")
    options, extra = parser.parse_known_args(argv)
    if options.install_jupyter_config:
        print(install_jupyter_config(*options.install_jupyter_config))
        return
    try:
        serve(options.workspace, options.port, options.token, reports=options.reports,
              pages=options.pages, host=options.host, preheat=options.preheat,
              pool_size=options.pool_size, max_kernels=options.max_kernels,
              public_url=options.public_url,
              extra_voila_args=extra)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

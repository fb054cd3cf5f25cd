"""Browser tests: the real app behind a real HTTP server in a thread (so it
can be stopped and started again, as in a network loss), driven by Debian's
headless Chromium through Playwright.

Screenshots go to artifacts/screenshots/ (git-ignored; CI keeps the folder).
Chromium: CREDTRACK_CHROMIUM, else /usr/bin/chromium; the tests are skipped
when neither Playwright nor the browser is there."""
from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from credential_track import create_app
from credential_track.db import make_engine, write_session
from credential_track.services import accounts

from ..factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CREDTRACK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


class _Handler(WSGIRequestHandler):
    # one request per connection: once the server stops, nothing it served
    # lingers on a kept-alive socket
    protocol_version = "HTTP/1.0"

    def log_request(self, *args, **kwargs):
        pass


class LiveServer:
    """The app on 127.0.0.1:<port>; stop() and start() again on the same port."""

    def __init__(self, app):
        self.app = app
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = None
        self._thread = None

    def start(self):
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True, request_handler=_Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None


@pytest.fixture(scope="session")
def browser_template(sqlite_template, tmp_path_factory) -> Path:
    """The migrated, seeded database plus the users the tests sign in as."""
    path = tmp_path_factory.mktemp("browser") / "template.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with write_session(engine) as s:
        for role in ("operator", "supervisor"):
            accounts.create_user(s, username=f"b-{role}", password=PASSWORD, role=role,
                                 display_name=f"B {role}")
    engine.dispose()
    return path


@pytest.fixture
def live_app(browser_template, tmp_path):
    path = tmp_path / "browser.db"
    shutil.copy(browser_template, path)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "browser-test"})
    yield app
    app.extensions["credtrack_engine"].dispose()


@pytest.fixture
def engine(live_app):
    return live_app.extensions["credtrack_engine"]


@pytest.fixture
def server(live_app):
    srv = LiveServer(live_app)
    srv.start()
    yield srv
    if srv.running:
        srv.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


# Record every tone the page plays: [frequency, …] per beep, so tests can
# tell the ok / warning / stop sounds apart.
_AUDIO_SPY = """
window.__tones = [];
(function () {
  var Orig = window.AudioContext || window.webkitAudioContext;
  if (!Orig) { return; }
  var proto = Orig.prototype, create = proto.createOscillator;
  proto.createOscillator = function () {
    var osc = create.call(this);
    var start = osc.start.bind(osc);
    osc.start = function (when) { window.__tones.push(osc.frequency.value); return start(when); };
    return osc;
  };
})();
"""


@pytest.fixture(scope="session")
def operator_cookies(browser, browser_template, tmp_path_factory):
    """Sign the operator in once, into the template itself: every test's
    database is a copy of it, holding that sign-in's server-side session,
    with the same secret key, so the session cookie holds for all (cookies
    do not depend on the port). Session-scoped, it runs before any test's
    copy is made."""
    path = browser_template
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "browser-test"})
    srv = LiveServer(app)
    srv.start()
    context = browser.new_context()
    try:
        login(context.new_page(), srv)
        return context.storage_state()["cookies"]
    finally:
        context.close()
        srv.stop()
        app.extensions["credtrack_engine"].dispose()


def new_context(browser, cookies, **kw):
    context = browser.new_context(**kw)
    context.add_cookies(cookies)
    return context


@pytest.fixture
def page(browser, operator_cookies):
    context = new_context(browser, operator_cookies, locale="en-US", viewport={"width": 1280, "height": 900})
    context.add_init_script(_AUDIO_SPY)
    pg = context.new_page()
    pg.set_default_timeout(8000)
    yield pg
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page, server, role: str = "operator") -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=username]", f"b-{role}")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def sign_in(page, server, station: str, role: str = "operator") -> None:
    """Log in (unless the browser is signed in already) and pick the station,
    as an operator does."""
    page.goto(server.url + "/station/?change=1")
    if "/login" in page.url:
        login(page, server, role)
        page.goto(server.url + "/station/?change=1")
    page.click(f"#pick-{station}")
    try:
        page.wait_for_url("**/station/home")
    except sync_api.TimeoutError:
        body = page.text_content("body") or ""
        raise AssertionError(f"picking {station} did not open the station's home: at {page.url}: "
                             f"{' '.join(body.split())[:300]}") from None


def scan(page, code: str) -> None:
    """What a USB scanner does: type the code, press Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def counter(page, name: str) -> int:
    return int(page.text_content(f"#count-{name}"))


def wait_settled(page, ok: int | None = None) -> None:
    """Until nothing is pending (and, if given, `ok` scans have come back)."""
    cond = "document.getElementById('count-pending').textContent === '0'"
    if ok is not None:
        cond += f" && document.getElementById('count-ok').textContent === '{ok}'"
    page.wait_for_function("() => " + cond)

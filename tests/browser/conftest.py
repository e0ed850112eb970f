"""A real hub serving the built web UI, and Debian's Chromium driven through Playwright.

The hub runs on the embedded engine (FalkorDB) only: the UI reads the GraphQL API, whose
engines the gateway and graph suites already cover; one engine keeps `make test` quick.

Chromium comes from Debian (`/usr/bin/chromium`), never Playwright's own download. When it is
missing the session installs it with apt-get (root, as here and in CI); when that is impossible
the fixture fails with the reason. These tests never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from gateway.config import Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from tests.federation.conftest import Hub

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
LAPTOP = {"width": 1366, "height": 768}
CLEAR = "MATCH (n) WHERE NOT n:SchemaVersion AND NOT n:DataKey DETACH DELETE n"


def _installed_chromium() -> str | None:
    return shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Installing Chromium takes minutes: give the browser tests room while it happens."""
    if _installed_chromium() is None:
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(pytest.mark.timeout(1200))


def _install_chromium() -> str:
    found = _installed_chromium()
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(
            "Browser tests need Debian's chromium package: run `apt-get install -y chromium` "
            "as root (this session is not root or has no apt-get)",
            pytrace=False,
        )
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(
                f"`{' '.join(command)}` failed; browser tests need Debian's chromium:\n"
                + done.stderr[-2000:],
                pytrace=False,
            )
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get installed chromium but no `chromium` is on PATH", pytrace=False)
    return found


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return _install_chromium()


@pytest.fixture(scope="session")
def web_build() -> Path:
    """The UI built from web/ (`make web` rebuilds only when a source is newer)."""
    done = subprocess.run(
        ["make", "--no-print-directory", "web"], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.fail(f"`make web` failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    static = ROOT / "gateway" / "static"
    assert (static / "index.html").is_file()
    return static


@pytest.fixture(scope="module")
def ui_server(
    web_build: Path,
    falkordb_server: EmbeddedFalkorDB,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Settings]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("web-hub")
    # A graph per module: its data keys are wrapped by this module's data dir's key file.
    graph = "web_" + data_dir.name.replace("-", "_")
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/{graph}",
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{port}",
        # As in production: the UI must work with nothing but its persisted queries.
        graphql_persisted_only=True,
    )
    server = BackgroundServer(settings, "127.0.0.1", port)  # the gateway serves the UI at /
    server.start()
    yield settings
    server.stop()


@pytest.fixture(scope="module")
async def ui_hub(ui_server: Settings, falkordb_server: EmbeddedFalkorDB) -> AsyncIterator[Hub]:
    graph = (ui_server.graph_uri or "").rsplit("/", 1)[1]
    store = FalkorDBStore("127.0.0.1", falkordb_server.port, graph_name=graph)
    await store.write(CLEAR)
    url = ui_server.public_url or ""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Hub(url, ui_server, store, http)
    await store.close()


def client_secret(hub: Hub, client_id: str) -> str:
    secrets: dict[str, str] = json.loads(
        (hub.settings.data_dir / "devidp" / "client-secrets.json").read_text()
    )
    return secrets[client_id]


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield launched
        await launched.close()


class Console:
    """What the page logged: CSP violations and script errors fail the test that caused them."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture
async def page_and_console(browser: Browser) -> AsyncIterator[tuple[Page, Console]]:
    context: BrowserContext = await browser.new_context(viewport=LAPTOP)
    page = await context.new_page()
    console = Console()
    console.watch(page)
    yield page, console
    await context.close()


async def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path

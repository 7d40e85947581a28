"""Browser fixtures: Debian's chromium driven headless by Playwright (sync API), one browser per session.

No pytest-playwright plugin and never ``playwright install``: the browser is /usr/bin/chromium
(``apt-get install chromium``, see scripts/test). Each test gets a fresh context (own sessionStorage) and
fails if the page logged a JavaScript error or a CSP violation.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.conftest import Server, encode, photo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DESKTOP = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "chromium not found: apt-get install -y --no-install-recommends chromium (scripts/test does)"
        )
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--no-proxy-server", "--disable-gpu"]
    )
    yield browser
    browser.close()


class PageErrors:
    """JavaScript exceptions and console errors seen on a page."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.messages.append(f"console: {msg.text}")

    def exception(self, exc: Exception) -> None:
        self.messages.append(f"pageerror: {exc}")


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(browser: Browser, server: Server) -> Iterator[OpenPage]:
    """Factory: the playground in a new context (``viewport``, optional ``init_script``), loaded."""
    opened: list[tuple[Page, PageErrors]] = []

    def factory(*, viewport: dict[str, int] = DESKTOP, init_script: str = "") -> Page:
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        errors = PageErrors()
        page.on("console", errors.console)
        page.on("pageerror", errors.exception)
        opened.append((page, errors))
        page.goto(f"{server.url}/playground")
        page.wait_for_selector('input[name="style"]:checked', state="attached")
        return page

    yield factory
    for page, _ in opened:
        page.context.close()
    messages = [m for _, errors in opened for m in errors.messages]
    assert not messages, messages


@pytest.fixture
def desktop(open_page: OpenPage) -> Page:
    return open_page(viewport=DESKTOP)


@pytest.fixture
def phone(open_page: OpenPage) -> Page:
    return open_page(viewport=PHONE)


@pytest.fixture(scope="session")
def astronaut_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photo (skimage's astronaut, NASA, public domain) as a PNG file to upload."""
    path = tmp_path_factory.mktemp("upload") / "astronaut.png"
    path.write_bytes(encode(photo("astronaut", (320, 320)), "PNG"))
    return path

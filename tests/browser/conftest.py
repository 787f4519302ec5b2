"""Playwright driving Debian's Chromium (/usr/bin/chromium, headless) against pytest-django's live server.

Playwright's own browser download is not used: the distribution's chromium is the browser (README,
Prerequisites; .ci/run installs it when missing). Without it, or without the playwright package, these tests
skip with the reason."""

import base64
import os
import re
import shutil
from pathlib import Path

import pytest

from config.env import BASE_DIR

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", BASE_DIR / "var" / "screenshots"))

# Live-server tests are transactional: tests/conftest.py puts back the shipped reference data (categories,
# severity matrix, regimes) that the flush after each transactional test removes.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API keeps an event loop running in this thread (in a greenlet) while it is open;
    # the test's own ORM calls are still plain synchronous code, so Django's async guard is lifted for
    # exactly as long as the browser is open.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            try:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            except Error as exc:
                pytest.skip(f"Chromium at {CHROMIUM} does not start here: {exc}")
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


class Pages:
    """One browser context per person, collecting console errors and failed requests of every page."""

    def __init__(self, browser, base_url: str):
        self.browser, self.base_url = browser, base_url
        self.problems: list[tuple[str, str]] = []  # (what, url)
        self.expected_404: set[str] = set()
        self.contexts = []

    def expect_404(self, url: str) -> None:
        """A page the test opens expecting 404: its "failed to load" console line is not a problem."""
        self.expected_404.add(url)

    def unexpected(self) -> list[str]:
        return [
            what for what, url in self.problems if not (url in self.expected_404 and "status of 404" in what)
        ]

    def open_as(self, username: str, password: str, *, viewport=None):
        context = self.browser.new_context(
            base_url=self.base_url, viewport=viewport or {"width": 1366, "height": 900}
        )
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and self.problems.append(
                    (f"console: {msg.text} ({msg.location.get('url')})", msg.location.get("url"))
                )
            ),
        )
        page.on("pageerror", lambda exc: self.problems.append((f"page error: {exc}", page.url)))
        page.on(
            "response", lambda r: r.status >= 500 and self.problems.append((f"{r.status} {r.url}", r.url))
        )
        page.goto("/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(rf"^{re.escape(self.base_url)}/(account/two-factor/.*)?$"))
        self._second_factor(page, username)
        page.wait_for_url(f"{self.base_url}/")
        return page

    def _second_factor(self, page, username: str) -> None:
        """Managers, tenant admins and executives pass a second factor (apps.tenancy.two_factor): set up an
        authenticator from the key the page shows, or enter the code of the one they have; the code is
        computed here as their phone would."""
        from playwright.sync_api import expect

        from tests.two_factor import code_for_key, totp_code

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if "/account/two-factor/enrol/" in page.url:
            page.screenshot(path=str(SCREENSHOTS / f"2fa-enrol-{username}.png"), full_page=True)
            expect(page.get_by_test_id("qr").locator("svg")).to_be_visible()
            secret = page.get_by_test_id("secret").inner_text()
            page.get_by_label("Code from the app").fill(
                code_for_key(base64.b32decode(secret.replace(" ", "")))
            )
            page.get_by_role("button", name="Turn on two-factor authentication").click()
            expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
            page.screenshot(path=str(SCREENSHOTS / f"2fa-recovery-codes-{username}.png"), full_page=True)
            page.get_by_role("link", name="I have saved them: continue").click()
        elif "/account/two-factor/" in page.url:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            page.screenshot(path=str(SCREENSHOTS / f"2fa-code-{username}.png"), full_page=True)
            device = TOTPDevice.objects.get(user__username=username, confirmed=True)
            page.get_by_label("Code").fill(totp_code(device))
            page.get_by_role("button", name="Verify").click()

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, live_server):
    pages = Pages(browser, live_server.url)
    yield pages
    pages.close()
    problems = pages.unexpected()
    assert not problems, "\n".join(problems)


@pytest.fixture
def shot():
    """shot(page, name): a full-page PNG in var/screenshots/ for a reviewer."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take

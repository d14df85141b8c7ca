"""A live portal on loopback and Debian's Chromium driven by Selenium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PORTAL_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("PORTAL_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "instance" / "test-artifacts"))


class LiveServer:
    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def live(env: Env, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    marker = request.node.get_closest_marker("pow_bits")
    server = LiveServer(env.app(pow_bits=marker.args[0] if marker else 0))
    yield server
    server.stop()


def _driver(javascript: bool) -> Any:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip(f"BROWSER MISSING — install Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run", "--disable-sync",
                "--window-size=412,915"):  # a phone-sized window
        opts.add_argument(arg)
    if not javascript:
        opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)


@pytest.fixture
def browser_nojs(request: pytest.FixtureRequest) -> Iterator[Any]:
    d = _driver(javascript=False)
    yield d
    _finish(d, request)


@pytest.fixture
def browser_js(request: pytest.FixtureRequest) -> Iterator[Any]:
    d = _driver(javascript=True)
    yield d
    _finish(d, request)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _finish(driver: Any, request: pytest.FixtureRequest) -> None:
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        (ARTIFACTS / f"{name}.html").write_text(driver.page_source, encoding="utf-8")
    driver.quit()


def staff_browser_login(d: Any, live: LiveServer, member: Any, lands: str) -> None:
    """Password, then the TOTP code, as a member would type them; waits for the landing page."""
    import pyotp
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.test_handler_journey import _navigate

    wait = WebDriverWait(d, 60)
    d.get(live.url + "/staff/login")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys(member.username)
    d.find_element(By.ID, "password").send_keys(member.password)
    _navigate(d, d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click)
    wait.until(EC.presence_of_element_located((By.ID, "code"))).send_keys(pyotp.TOTP(member.totp).now())
    _navigate(d, d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click)
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), lands))

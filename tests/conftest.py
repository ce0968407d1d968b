"""Fixtures shared by the machinery tests: a headless Chromium driven by selenium.

`driver` gives a browser (one per test module). Without chromium, chromium-driver or selenium the tests
that use it are skipped with the install command; under CI they fail instead (.ci/run installs them).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = "apt-get install -y chromium chromium-driver && pip install selenium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000",
]

def _browser_and_driver() -> tuple[Path, Path] | None:
    """Debian's chromium + chromedriver; else Google Chrome with the driver that matches it on GitHub runners."""
    pairs = [(CHROMIUM, CHROMEDRIVER)]
    chrome, driver_dir = shutil.which("google-chrome"), os.environ.get("CHROMEWEBDRIVER")
    if chrome and driver_dir:
        pairs.append((Path(chrome), Path(driver_dir) / "chromedriver"))
    return next(((b, d) for b, d in pairs if b.is_file() and d.is_file()), None)


def _missing_browser_parts() -> list[str]:
    missing = []
    if _browser_and_driver() is None:
        if not CHROMIUM.is_file():
            missing.append(f"Debian package chromium ({CHROMIUM})")
        if not CHROMEDRIVER.is_file():
            missing.append(f"Debian package chromium-driver ({CHROMEDRIVER})")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("Python package selenium")
    return missing


@pytest.fixture(scope="module")
def driver():
    missing = _missing_browser_parts()
    if missing:
        message = f"browser tests need {', '.join(missing)}; install with: {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser_path, driver_path = _browser_and_driver()
    with tempfile.TemporaryDirectory(prefix="stride-viewer-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(browser_path)
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        browser = webdriver.Chrome(service=Service(str(driver_path)), options=options)
        browser.set_page_load_timeout(20)
        browser.set_script_timeout(20)
        try:
            yield browser
        finally:
            browser.quit()

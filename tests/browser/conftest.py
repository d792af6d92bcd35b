"""Browser fixtures: the real app in a uvicorn subprocess, and Chromium pages that fail a test
on any console error or uncaught page error."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 30
# A broken page should fail in seconds, not hang the suite.
ACTION_TIMEOUT_MS = 5_000
TEST_DEADLINE_SECONDS = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_answering(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(
        f"the app did not answer {url} within {SERVER_START_SECONDS} s:\n{log.read_text()}"
    )


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The real app, started with uvicorn on a free local port, stopped after the session."""
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="gradplay-browser-", suffix=".log")[1])
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(f"{url}/api/presets", process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian's package; missing, it fails under CI and skips elsewhere."""
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (Debian package `chromium`)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide it for the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class PageErrors:
    """Console errors and uncaught exceptions seen by a page; some may be declared expected."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.allowed: list[re.Pattern] = []

    def expect(self, pattern: str) -> None:
        """Allow console errors matching `pattern` (e.g. the 400 of a deliberate syntax error)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [text for text in self.seen if not any(p.search(text) for p in self.allowed)]


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


def _refuse_dialog(dialog, page_errors: PageErrors) -> None:
    # Errors belong in the page; an alert() or confirm() is itself a failure.
    page_errors.seen.append(f"dialog: {dialog.message}")
    dialog.dismiss()


def _deadline(signum, frame):
    raise TimeoutError(f"browser test took longer than {TEST_DEADLINE_SECONDS} s")


@pytest.fixture
def page(browser, base_url, page_errors):
    """A fresh page on the app with short timeouts; fails the test on any console/page error."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=base_url)
    new_page = context.new_page()
    new_page.set_default_timeout(ACTION_TIMEOUT_MS)
    new_page.on(
        "console",
        lambda message: message.type == "error" and page_errors.seen.append(message.text),
    )
    new_page.on("pageerror", lambda error: page_errors.seen.append(f"page error: {error}"))
    new_page.on("dialog", lambda dialog: _refuse_dialog(dialog, page_errors))

    previous = signal.signal(signal.SIGALRM, _deadline)
    signal.alarm(TEST_DEADLINE_SECONDS)
    try:
        yield new_page
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        context.close()
    unexpected = page_errors.unexpected()
    if unexpected:
        pytest.fail("the page logged errors:\n" + "\n".join(unexpected))

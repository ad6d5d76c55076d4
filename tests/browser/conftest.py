"""Browser tests: the real stack (web server, django-q2 worker, mail sink) as
`make run` starts it, on a fresh database, driven by Debian's Chromium through
Playwright. Missing Chromium fails these tests; it never skips them."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest

from core.testing.smtp import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


class Stack:
    """The three processes of `make run`, on their own ports, database and mail folder."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.smtp_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mail_dir = root / "mail"
        self.env = {
            **os.environ,
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
            "REDIS_URL": "",
            "MAIL_SINK_PORT": str(self.smtp_port),
            "MAIL_SINK_DIR": str(self.mail_dir),
            "EMAIL_PORT": str(self.smtp_port),
            "EMAIL_HOST": "127.0.0.1",
            "MEDIA_ROOT": str(root / "media"),
            "SITE_URL": self.url,
            "Q_POLL": "0.2",
            "AXES_FAILURE_LIMIT": "50",
            "PYTHONUNBUFFERED": "1",
        }
        self.processes = []

    def manage(self, *args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, check=True)

    def start(self):
        self.manage("migrate", "--noinput", "-v0")
        self.manage("createcachetable")
        self.manage("load_demo")
        commands = [
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            [sys.executable, "manage.py", "qcluster"],
            [sys.executable, "-m", "core.mailsink", "--port", str(self.smtp_port), "--dir", str(self.mail_dir)],
        ]
        for name, cmd in zip(("web", "worker", "mail"), commands, strict=True):
            log = (self.root / f"{name}.log").open("w")
            self.processes.append(subprocess.Popen(cmd, cwd=BASE_DIR, env=self.env, stdout=log, stderr=log))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with suppress(OSError):
                urllib.request.urlopen(self.url + "/", timeout=2)
                return self
            time.sleep(0.3)
        raise RuntimeError("web server did not start: " + (self.root / "web.log").read_text())

    def stop(self):
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def outbox(self):
        return sorted(self.mail_dir.glob("*.eml"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("stack")).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every page reports its Content-Security-Policy violations on the console.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


def csp_violations(context):
    """Console lines of CSP violations on any page of `context`, collected as they happen."""
    found = []
    context.add_init_script(CSP_LISTENER)

    def on_console(message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("CSP violation"):
            found.append(f"{message.page.url if message.page else '?'}: {text}")

    context.on("console", on_console)
    return found


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(base_url=stack.url)
    context.set_default_timeout(15000)
    violations = csp_violations(context)
    page = context.new_page()
    yield page
    context.close()
    assert violations == [], "Content-Security-Policy violations"


def login(page, email, password, url="/accounts/login/"):
    page.goto(url)
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("button[type=submit]").click()

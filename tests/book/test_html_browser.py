"""Headless-Chromium checks of the built book (run `make html` first).

Every page loads from a local server with no console errors beyond a short,
documented allow-list; math is typeset by the offline MathJax (no CDN);
every image loads; every chapter has its Colab and Binder launch links.
Drives Debian's /usr/bin/chromium through Playwright for Python (never
`playwright install`). Locally a missing Chromium skips; with CI set it fails.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest
from playwright import sync_api  # plain import: a missing playwright must fail, not skip

from bookfiles import CONFIG, ROOT, chapters, html_pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists()
                       and not os.environ.get("CI"), reason="chromium not installed (apt-get install chromium)"),
]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Harmless messages of the Jupyter Book 1 theme stack, unrelated to our content:
#  - sphinx-thebe 0.3.1 under Sphinx 7.4 emits its inline `const THEBE_JS_URL` script twice;
#  - pydata-sphinx-theme complains about an empty stored theme mode in a fresh browser profile.
ALLOWED = ("Identifier 'THEBE_JS_URL' has already been declared", "Got invalid theme mode")
MATHJAX_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def base_url():
    assert (HTML / "index.html").exists(), f"build the book first (make html): {HTML}"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


REFRESH = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.IGNORECASE)
"""The redirect stub Jupyter Book writes as the root index.html."""


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(params=html_pages())
def page(request, browser, base_url):
    """A loaded page, plus every problem the browser reported while loading it."""
    pg = browser.new_page()
    problems = []

    def note(msg):
        if not any(a in msg for a in ALLOWED):
            problems.append(msg)

    pg.on("console", lambda m: note(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: note(f"pageerror: {e}"))
    pg.on("requestfailed", lambda r: note(f"requestfailed: {r.url} {r.failure}"))
    pg.on("response", lambda r: note(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    pg.goto(f"{base_url}/{request.param}", wait_until="load")
    redirect = REFRESH.search((HTML / request.param).read_text(encoding="utf-8"))
    if redirect:  # a redirect stub (the root index.html): wait until its target has loaded
        target = redirect.group(1)
        pg.wait_for_url(lambda url: url.endswith("/" + target), timeout=MATHJAX_TIMEOUT_MS)
        pg.wait_for_load_state("load")
    if pg.locator("script[src*='mathjax']").count():  # Sphinx loads MathJax only on pages with math
        pg.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                             timeout=MATHJAX_TIMEOUT_MS)
        pg.evaluate("() => MathJax.startup.promise")
    yield request.param, pg, problems
    pg.close()


def test_page_loads_cleanly_with_math_and_images(page):
    path, pg, problems = page
    assert pg.locator("mjx-merror").count() == 0, f"{path}: TeX errors on the page"
    broken = pg.eval_on_selector_all(
        "img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).map(e => e.src)")
    assert broken == [], f"{path}: images that did not load: {broken}"
    assert problems == [], f"{path}: {problems}"
    if path.startswith("book/ch"):
        assert pg.locator("mjx-container").count() > 0, f"{path}: no typeset math"
        assert pg.locator("article img").count() > 0, f"{path}: no figure"
        assert "cdn.jsdelivr" not in pg.content(), f"{path}: references a CDN"


@pytest.mark.parametrize("chapter", chapters())
def test_launch_links(chapter, browser, base_url):
    pg = browser.new_page()
    pg.goto(f"{base_url}/{chapter}.html", wait_until="load")
    hrefs = pg.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    pg.close()
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{chapter}.ipynb"
    binder = f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=tree/{chapter}.ipynb"
    assert colab in hrefs, f"no Colab link {colab}"
    assert binder in hrefs, f"no Binder link {binder}"

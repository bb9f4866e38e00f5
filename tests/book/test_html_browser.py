"""Headless-Chromium checks of the built book (run `make html` first).

Every page loads from a local server with no console errors beyond a short,
documented allow-list; math is typeset by the offline MathJax (no CDN);
every image loads; every chapter has its Colab and Binder launch links;
figures stay readable in the light and the dark theme (checked in pixels).
DLBOOK_HTML_DIR (or the older BOOK_HTML) selects the built site, default
_build/html; DLBOOK_SCREENSHOT_DIR, if set, keeps the figure screenshots.
Drives Debian's /usr/bin/chromium through Playwright for Python (never
`playwright install`). Locally a missing Chromium skips; with CI set it fails.
"""

import functools
import http.server
import io
import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright import sync_api  # plain import: a missing playwright must fail, not skip

from bookfiles import CONFIG, ROOT, chapters, html_pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists()
                       and not os.environ.get("CI"), reason="chromium not installed (apt-get install chromium)"),
]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
HTML = Path(os.environ.get("DLBOOK_HTML_DIR") or os.environ.get("BOOK_HTML") or ROOT / "_build" / "html")
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


FIGURE_PAGES = ["book/ch07_optimizers.html", "book/ch10_cnn_architectures.html"]
"""Figure-heavy chapters (matplotlib PNGs: curves, legends, small tick labels)."""
LIGHT = 200
"""Luminance (0-255) a figure's background and frame must reach: light paper, not the dark page."""
INK = 100
"""Luminance below which a pixel counts as ink (axes, ticks, labels)."""
MIN_INK = 0.001
"""Fraction of a figure's pixels that must be ink: a plot whose black marks vanished fails."""
FRAME = range(1, 7)
"""Distances (CSS px) outside the plot's own pixels that must be light paper too (in light mode: the page)."""
MARGIN = range(-3, 0)
"""Distances (CSS px) inside the plot's edge: matplotlib's figure margin, the plot's own paper."""


def luminance(rgb):
    """Rec. 709 luma of an (..., 3) uint8 array, 0-255."""
    return rgb[..., :3].astype(float) @ np.array([0.2126, 0.7152, 0.0722])


def ring(lum, x0, y0, x1, y1, band, corner=12):
    """Pixels at distances `band` (px) outside the box [x0, x1) x [y0, y1); negative: inside. No corners."""
    d0, d1 = band.start, band.stop
    xs, ys = slice(x0 + corner, x1 - corner), slice(y0 + corner, y1 - corner)
    return np.concatenate([lum[y0 - d1 + 1:y0 - d0 + 1, xs].ravel(), lum[y1 + d0 - 1:y1 + d1 - 1, xs].ravel(),
                           lum[ys, x0 - d1 + 1:x0 - d0 + 1].ravel(), lum[ys, x1 + d0 - 1:x1 + d1 - 1].ravel()])


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("path", FIGURE_PAGES)
def test_figures_readable(browser, base_url, path, mode, tmp_path):
    """Each figure, scrolled into view and screenshot, is dark ink on light paper inside a light frame.

    The mode is set the way the theme's toggle stores it (localStorage `mode` and
    `theme`, read by pydata-sphinx-theme 0.17.1 before the page is drawn). In
    dark mode, the theme alone dims the plots and frames them in a blue-grey
    that is darker than the plot; book/_ext/static/dlbook.css gives them one
    white card instead, so the frame test fails without that rule.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
    context.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    try:
        pg = context.new_page()
        pg.goto(f"{base_url}/{path}", wait_until="load")
        assert pg.evaluate("document.documentElement.dataset.theme") == mode
        page_rgb = pg.evaluate("getComputedStyle(document.body).backgroundColor")
        page_lum = luminance(np.array([float(v) for v in re.findall(r"[\d.]+", page_rgb)[:3]]))
        assert (page_lum < 60) if mode == "dark" else (page_lum > LIGHT), f"{mode} page background is {page_rgb}"
        figures = pg.locator(".bd-article img")
        boxes = []
        for i in range(figures.count()):
            box = figures.nth(i).evaluate("""e => {
                if (!e.offsetWidth) return null;  // in a closed dropdown: not in view
                e.scrollIntoView({block: "center"});
                const r = e.getBoundingClientRect(), s = getComputedStyle(e), px = v => parseFloat(s[v]);
                return {x0: r.left + px("paddingLeft"), x1: r.right - px("paddingRight"),
                        y0: r.top + px("paddingTop"), y1: r.bottom - px("paddingBottom"),
                        ok: e.complete && e.naturalWidth > 0, src: e.src.split("/").pop()};
            }""")
            if box is None:
                continue
            shot = pg.screenshot()
            if not boxes:
                out = Path(os.environ.get("DLBOOK_SCREENSHOT_DIR") or tmp_path)
                out.mkdir(parents=True, exist_ok=True)
                (out / f"{Path(path).stem}-{mode}.png").write_bytes(shot)
            lum = luminance(np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")))
            # the plot's own pixels, 1 px in from each edge (the edges are resampled)
            x0, y0, x1, y1 = (int(np.ceil(box["x0"])), int(np.ceil(box["y0"])),
                              int(np.floor(box["x1"])), int(np.floor(box["y1"])))
            name = f"{path} ({mode}) figure {i} {box['src']}"
            assert box["ok"], f"{name}: did not load"
            assert 60 <= y0 - FRAME.stop and y1 + FRAME.stop <= lum.shape[0], f"{name}: not fully in view"
            plot = lum[y0 + 1:y1 - 1, x0 + 1:x1 - 1]
            paper, ink = np.median(ring(lum, x0, y0, x1, y1, MARGIN)), np.mean(plot < INK)
            frame = ring(lum, x0, y0, x1, y1, FRAME)
            boxes.append(name)
            assert paper >= LIGHT, f"{name}: paper (margin) luminance {paper:.0f} < {LIGHT}: not light"
            assert ink >= MIN_INK, f"{name}: only {ink:.2%} of pixels darker than {INK}: axes and labels lost"
            assert frame.min() >= LIGHT and abs(np.median(frame) - paper) <= 12, (
                f"{name}: the {FRAME.stop - 1} px around the plot (luminance {frame.min():.0f}-{frame.max():.0f}) "
                f"are not a light frame of the plot's own paper ({paper:.0f})")
    finally:
        context.close()
    assert boxes, f"{path}: no figure in view"

"""The PDF of the book (`make pdf`, then `make test-pdf`; marker `pdf`, never part of test-unit).

Reads the LaTeX output folder: DLBOOK_LATEX_DIR, default _build/latex. Needs poppler-utils
(pdfinfo, pdftotext, pdfimages), which `make pdf` installs with the TeX packages.

- the PDF exists, is newer than its .tex, and has a sane number of pages (printed);
- every part caption and chapter title of _toc.yml is in the text, without its number
  (LaTeX prints "Part I" and "Chapter 5" itself);
- no "??": every \\ref and \\pageref resolved; the .log names no undefined reference;
- the Chinese name of every key term (book/key_terms.yml -> book/glossary.md) is in the text;
- every {solution} sits in a "Solutions" section at the end of its chapter, and its exercise
  points to its page;
- images: the PDF embeds at least one raster image per PNG output stored in the chapters
  (the figures of the HTML book are exactly those outputs); transparency masks are not counted;
- the .log has no LaTeX error ("! ..."), no undefined control sequence (a MathJax-only
  macro would show here) and no missing character (a glyph no font has).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bookfiles import CONFIG, ROOT, TOC, chapter_paths

pytestmark = pytest.mark.pdf

LATEX_DIR = Path(os.environ.get("DLBOOK_LATEX_DIR") or ROOT / "_build" / "latex")
TARGET = CONFIG["latex"]["latex_documents"]["targetname"]  # dlbook.tex
PDF = LATEX_DIR / Path(TARGET).with_suffix(".pdf").name
LOG = LATEX_DIR / Path(TARGET).with_suffix(".log").name
CJK = re.compile(r"[\u3400-\u9fff]+")
CHAPTER_NUMBER = re.compile(r"^\d+\s*[.·:—–-]\s*")
PART_NUMBER = re.compile(r"^Part\s+[IVXLC]+\s*[.·:—–-]\s*")
SOLUTION = re.compile(r"^\s*(?:`{3,}|:{3,})\{solution(?:-start)?\}", re.M)
HIDDEN = {"remove-output", "remove-cell", "hide-output", "hide-cell"}  # outputs the PDF never shows


def run(*cmd: str) -> str:
    if shutil.which(cmd[0]) is None:
        pytest.fail(f"{cmd[0]} not found: `make pdf` installs poppler-utils")
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def flat(text: str) -> str:
    """One line, single spaces, no hyphenation breaks, typographic quotes as ASCII."""
    text = text.replace("\u00ad", "").replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"-\s*\n\s*", "-", text)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def pdf() -> Path:
    assert PDF.exists(), f"no {PDF}: run `make pdf` (or set DLBOOK_LATEX_DIR)"
    tex = PDF.with_suffix(".tex")
    assert PDF.stat().st_mtime >= tex.stat().st_mtime, f"{PDF.name} is older than {tex.name}: the last LaTeX run failed"
    return PDF


@pytest.fixture(scope="module")
def text(pdf) -> str:
    return flat(run("pdftotext", "-enc", "UTF-8", str(pdf), "-"))


@pytest.fixture(scope="module")
def log(pdf) -> str:
    """The .log with TeX's line wrapping (at 79 characters) undone."""
    lines = LOG.read_text(encoding="utf-8", errors="replace").split("\n")
    out = []
    for i, line in enumerate(lines):
        if i and len(lines[i - 1]) == 79:
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


def title_of(notebook: Path) -> str:
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise AssertionError(f"{notebook.name}: no '# ' title")


def test_page_count(pdf):
    pages = int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.M).group(1))
    n = len(chapter_paths())
    print(f"{PDF.name}: {pages} pages, {n} chapters")
    assert 10 * n <= pages <= 100 * n, f"{pages} pages for {n} chapters"


def test_chapter_and_part_titles(text):
    missing = []
    for notebook in chapter_paths():
        title = flat(CHAPTER_NUMBER.sub("", title_of(notebook)).replace("`", ""))
        if title not in text:
            missing.append(f"{notebook.name}: {title!r}")
    for part in TOC.get("parts", []):
        caption = flat(PART_NUMBER.sub("", part["caption"]))
        if caption not in text:
            missing.append(f"part {caption!r}")
    assert not missing, missing


def test_numbers_are_not_doubled(text):
    """Not "CHAPTER 5 5. Backpropagation", nor "Part I Part I — Foundations"."""
    doubled = re.findall(r"CHAPTER (\d+) \1\s*[.·:—–-] |Part ([IVXLC]+) Part \2\b", text, re.I)
    assert not doubled, doubled
    assert len(re.findall(r"CHAPTER \d+ ", text)) >= len(chapter_paths())


def test_no_unresolved_references(text, log):
    assert "??" not in text, re.findall(r".{60}\?\?.{20}", text)[:5]
    undefined = re.findall(r"^(?:LaTeX|Package \w+) Warning: (?:Reference|Citation|Hyper reference) .*$", log, re.M)
    assert not undefined, undefined[:10]


def test_glossary_chinese_names(text):
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    names = {}
    for block in glossary.split("```{glossary}\n", 1)[1].strip().split("\n\n"):
        term, _, definition = block.partition("\n")
        match = re.search(r"\*\*(.+?)\*\*", definition)
        if match and CJK.search(match.group(1)):
            names[term.strip().lower()] = match.group(1)
    key_terms = yaml.safe_load((ROOT / "book" / "key_terms.yml").read_text(encoding="utf-8"))
    wanted = {names[t.lower()] for terms in key_terms.values() for t in terms if t.lower() in names}
    assert len(wanted) > 50, f"only {len(wanted)} Chinese names found in book/glossary.md"
    squeezed = text.replace(" ", "")
    missing = sorted(n for n in wanted if n.replace(" ", "") not in squeezed)
    assert not missing, missing


def test_solutions_at_chapter_ends(text):
    """Each {solution} is printed once, in its chapter's closing "Solutions" section, and its
    exercise points to its page (book/_ext/dlbook_latex.py)."""
    solutions = 0
    for notebook in chapter_paths():
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                solutions += len(SOLUTION.findall("".join(cell["source"])))
    assert text.count("Solution on page") == solutions
    assert len(re.findall(r"Solution to Exercise \d+\.\d+", text)) >= solutions  # + any prose link


def stored_png_outputs() -> int:
    count = 0
    for notebook in chapter_paths():
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code" or HIDDEN & set(cell["metadata"].get("tags", [])):
                continue
            count += sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    return count


def test_every_figure_is_embedded(pdf):
    rows = run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    images = sum(1 for row in rows if row.split()[2] == "image")  # "smask" rows are alpha channels
    expected = stored_png_outputs()
    print(f"{images} raster images in the PDF, {expected} PNG outputs stored in the chapters")
    assert expected > 0 and images >= expected


def test_latex_log_is_clean(log):
    assert "Output written on" in log, "the last XeLaTeX run wrote no PDF"
    errors = [line for line in log.splitlines() if line.startswith("! ")]
    assert not errors, errors[:10]
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font", log)))
    assert not missing, f"glyphs no font has: {missing}"

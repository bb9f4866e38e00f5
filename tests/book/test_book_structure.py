"""Static checks of the chapters: the conventions of CONTRIBUTING.md that nbval cannot see."""

import json
import re
import tomllib

import pytest

import dlbook

from bookfiles import CONFIG, ROOT, chapters, source_of, toc_files

CHAPTERS = chapters()
MIN_EXERCISES = 3


def load(chapter):
    return json.loads((ROOT / f"{chapter}.ipynb").read_text())


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def markdown(nb):
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_every_toc_entry_exists_and_part_one_is_there():
    for name in toc_files():
        assert source_of(name).exists()
    assert len(CHAPTERS) >= 4


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_setup_cell_installs_this_package_from_the_configured_repository(chapter):
    first = "".join(code_cells(load(chapter))[0]["source"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    match = re.search(r'%pip install -q "(\w+)\[(\w+)\] @ git\+(\S+)"', first)
    assert match, f"{chapter}: the first code cell must install dlbook when it is missing"
    name, extra, url = match.groups()
    assert name == project["name"] and extra in project["optional-dependencies"]
    assert url == CONFIG["repository"]["url"]
    assert "except ImportError" in first and "import dlbook" in first


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_outputs_are_stored_clean_and_deterministic(chapter):
    nb = load(chapter)
    cells = [c for c in code_cells(nb) if "".join(c["source"]).strip()]
    for c in cells:
        assert "execution" not in c["metadata"], f"{chapter}: execution timestamps stored"
        assert not any(o["output_type"] == "error" for o in c["outputs"]
                       if "raises-exception" not in c["metadata"].get("tags", [])), f"{chapter}: error output"
    assert sum(bool(c["outputs"]) for c in cells) >= 0.7 * len(cells), f"{chapter}: outputs not stored"
    text = json.dumps([c["outputs"] for c in cells])
    assert not re.search(r"np\.float(32|64)\(", text), f"{chapter}: a bare numpy scalar is printed"
    assert not re.search(r"/(tmp|home|root|work)/", text), f"{chapter}: a machine path in an output"
    assert "image/png" in text, f"{chapter}: no figure"
    assert "image/svg+xml" not in text, f"{chapter}: SVG figures are not byte-stable; use PNG"
    ignored = sum("nbval-ignore-output" in c["metadata"].get("tags", []) for c in cells)
    assert ignored <= 3, f"{chapter}: {ignored} cells skip nbval; keep that for hardware-dependent cells"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_the_parts_of_a_chapter(chapter):
    nb = load(chapter)
    md = markdown(nb)
    code = "\n".join("".join(c["source"]) for c in code_cells(nb))
    assert nb["cells"][0]["cell_type"] == "markdown" and md.startswith("# "), "title first"
    exercises = re.findall(r"```\{exercise\}[^\n]*\n:label: (ex-[\w-]+)", md)
    solutions = re.findall(r"```\{solution\} (ex-[\w-]+)", md)
    assert len(exercises) >= MIN_EXERCISES, f"{chapter}: {len(exercises)} exercises"
    assert set(exercises) <= set(solutions), f"{chapter}: exercises without solutions"
    assert "{prf:algorithm}" in md, f"{chapter}: no algorithm box"
    assert "{cite" in md, f"{chapter}: no citation"
    assert "{term}" in md, f"{chapter}: no glossary link"
    assert re.search(r"\$\$ \(eq-", md) or re.search(r"\$\$\s*\(eq-", md), f"{chapter}: no labelled equation"
    assert "show_source(" in code, f"{chapter}: code not shown from the package"
    assert re.search(r"^\s*import torch", code, re.M), f"{chapter}: no PyTorch cross-check"


def test_labels_are_unique_across_the_book():
    seen = {}
    for chapter in CHAPTERS:
        for label in re.findall(r":label: ([\w-]+)|\$\$ \(([\w-]+)\)", markdown(load(chapter))):
            label = label[0] or label[1]
            assert label not in seen, f"{label} in {chapter} and {seen[label]}"
            seen[label] = chapter


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_stored_outputs_carry_their_provenance(chapter):
    """make outputs records what produced the outputs; the book prints it under the chapter."""
    prov = load(chapter)["metadata"].get("dlbook", {}).get("provenance", {})
    assert set(prov) >= {"dlbook", "commit", "device", "python", "numpy", "torch"}, prov
    assert prov["dlbook"] == dlbook.__version__
    assert re.fullmatch(r"[0-9a-f]{7,40}(\+modified)?", prov["commit"]), prov["commit"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_show_source_cells_link_to_the_api_reference(chapter):
    outputs = json.dumps([c["outputs"] for c in code_cells(load(chapter))])
    shown = outputs.count("**`dlbook.")
    assert shown == outputs.count("[API reference](#dlbook."), f"{chapter}: a show_source output without its link"


def test_api_reference_pages_are_current():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "api_pages.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "book/api/index" in toc_files()


def test_every_public_name_has_a_docstring_naming_its_chapter():
    """The API reference documents each public name; its docstring (or its module's) names a chapter."""
    import importlib
    import inspect
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from api_pages import public_modules

    infrastructure = {"dlbook", "dlbook.utils", "dlbook.book.source", "dlbook.book.doctor",
                      "dlbook.book.results", "dlbook.book.provenance", "dlbook.data.download",
                      "dlbook.data.idx"}
    missing, no_chapter = [], []
    for name in public_modules():
        module = importlib.import_module(name)
        mod_chapter = re.search(r"[Cc]hapters? \d+|Part [IVX]+", inspect.getdoc(module) or "")
        for attr, obj in vars(module).items():
            if attr.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) != name:
                continue  # documented where it is defined
            doc = inspect.getdoc(obj)
            if not doc:
                missing.append(f"{name}.{attr}")
            elif not (mod_chapter or name in infrastructure or re.search(r"[Cc]hapters? \d+", doc)):
                no_chapter.append(f"{name}.{attr}")
    assert not missing, f"public names without a docstring: {missing}"
    assert not no_chapter, f"docstrings that name no chapter: {no_chapter}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_wrapped_line_inside_inline_math_starts_a_list(chapter):
    """A line that begins with "+ " or "- " while a $...$ is still open becomes a Markdown list
    item: the math breaks and a raw $ is printed (HTML and PDF alike). Join it to the line above."""
    bad = []
    for cell in load(chapter)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        open_math = False
        for line in "".join(cell["source"]).split("\n"):
            if line.strip() == "$$" or line.startswith("$$"):
                open_math = False
                continue
            if open_math and re.match(r"\s*[-+*] ", line):
                bad.append(line.strip()[:60])
            open_math ^= line.replace("$$", "").count("$") % 2 == 1
    assert not bad, f"{chapter}: lines that Markdown reads as list items inside inline math: {bad}"

"""Static checks of the chapters: the conventions of CONTRIBUTING.md that nbval cannot see."""

import json
import re
import tomllib

import pytest

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

"""The English-Chinese glossary and the chapters' links to it.

- every glossary entry has a Chinese name and a one-line definition, and the list is sorted;
- every chapter's key terms (book/key_terms.yml) have an entry and are linked from the chapter;
- every {term} link points to an entry (the -W -n build fails on these too; this says which);
- a term is linked at its FIRST use in the chapter's body (the learning-goals cell may mention
  it before; headings, code, math and link texts do not count as uses).
"""

import re

import nbformat
import pytest
import yaml

from bookfiles import ROOT, chapter_paths

GLOSSARY = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
KEY_TERMS = yaml.safe_load((ROOT / "book" / "key_terms.yml").read_text(encoding="utf-8"))
TERM = re.compile(r"\{term\}`([^`]+)`")
CJK = re.compile(r"[\u3400-\u9fff]")
NOT_PROSE = [re.compile(r"(`{3,}).*?\1", re.S), re.compile(r"\$\$.*?\$\$", re.S), re.compile(r"\$[^$\n]*\$"),
             re.compile(r"\{\w+(?::\w+)?\}`[^`]*`"), re.compile(r"`[^`\n]*`"), re.compile(r"^#.*$", re.M),
             re.compile(r"^:\w+:.*$", re.M), re.compile(r"\[[^\]]*\]\([^)]*\)"), re.compile(r"<[^>\n]+>")]


def entries() -> dict[str, str]:
    body = GLOSSARY.split("```{glossary}\n", 1)[1].rsplit("```", 1)[0]
    out = {}
    for block in body.strip("\n").split("\n\n"):
        term, _, definition = block.partition("\n")
        out[term.strip()] = definition
    return out


ENTRIES = entries()
KNOWN = {t.lower() for t in ENTRIES}


def target(role_text: str) -> str:
    m = re.match(r"(.*?)\s*<(.+)>\s*$", role_text, re.S)
    return (m.group(2) if m else role_text).strip()


def body_cells(path) -> list[str]:
    """The chapter's markdown cells after the title-and-goals cell."""
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"][1:]


def prose_mask(src: str) -> list[bool]:
    ok = [True] * len(src)
    for rx in NOT_PROSE:
        for m in rx.finditer(src):
            ok[m.start():m.end()] = [False] * (m.end() - m.start())
    return ok


def test_every_entry_has_a_chinese_name_and_one_line_definition():
    assert len(ENTRIES) >= 100
    for term, definition in ENTRIES.items():
        lines = definition.strip().splitlines()
        assert len(lines) == 1, f"{term}: the definition must be one line"
        m = re.match(r"\*\*(.+?)\*\*\. (.+)$", lines[0].strip())
        assert m and CJK.search(m.group(1)), f"{term}: expected '**中文**. Definition.'"
        assert len(m.group(2).split()) >= 4, f"{term}: definition too short"


def test_glossary_is_sorted_without_duplicates():
    names = [t.lower() for t in ENTRIES]
    assert names == sorted(names) and len(set(names)) == len(names)


@pytest.mark.parametrize("path", chapter_paths(), ids=lambda p: p.stem[:4])
def test_links_resolve_and_key_terms_are_linked(path):
    chapter = path.stem[:4]
    cells = body_cells(path)
    links = {target(m.group(1)).lower() for src in cells for m in TERM.finditer(src)}
    assert not links - KNOWN, f"{chapter}: links to terms without an entry: {sorted(links - KNOWN)}"
    assert chapter in KEY_TERMS, f"{chapter}: list its key terms in book/key_terms.yml"
    keys = {t.lower() for t in KEY_TERMS[chapter]}
    assert not keys - KNOWN, f"{chapter}: key terms without a glossary entry: {sorted(keys - KNOWN)}"
    assert not keys - links, f"{chapter}: key terms never linked with {{term}}: {sorted(keys - links)}"


@pytest.mark.parametrize("path", chapter_paths(), ids=lambda p: p.stem[:4])
def test_terms_are_linked_at_first_use(path):
    cells = body_cells(path)
    first_link = {}
    for ci, src in enumerate(cells):
        for m in TERM.finditer(src):
            first_link.setdefault(target(m.group(1)).lower(), (ci, m.start()))
    early = []
    for term, (ci, pos) in first_link.items():
        word = re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", re.I)
        for cj in range(ci + 1):
            src, ok = cells[cj], prose_mask(cells[cj])
            stop = pos if cj == ci else len(src)
            hit = next((h for h in word.finditer(src, 0, stop) if all(ok[h.start():h.end()])), None)
            if hit:
                early.append(f"'{term}' (…{src[max(0, hit.start() - 30):hit.end() + 10]!r})")
                break
    assert not early, f"{path.name}: terms used before their link: {early}"

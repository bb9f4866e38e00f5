"""Sphinx extension of the book (loaded through ``local_extensions`` in _config.yml).

1. API reference: "chapter N" in a docstring becomes a link to chapter N, so
   every entry of the reference links back to the chapter that derives it.
2. Provenance: a chapter notebook whose metadata holds ``dlbook.provenance``
   (written by scripts/execute_notebooks.py) gets one small line at the end
   of its page: the dlbook version, commit and device that produced the
   stored outputs.
3. Numbers per chapter: equations, figures and tables of chapter N are numbered
   N.1, N.2, ... ("(15.3)"), not through the whole book. The chapter titles carry
   their numbers by hand, so Sphinx's section numbering (which would prefix them)
   stays off; this renumbers what numfig assigned instead.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

from docutils import nodes

CHAPTER_REF = re.compile(r"\b([Cc]hapters?) (\d+)((?:(?:, | and | or |-|–)\d+)*)")
NUMBER = re.compile(r"\d+")
PROVENANCE_KEYS = ("dlbook", "commit", "device", "python", "numpy", "torch")


def chapter_docs(srcdir: Path) -> dict[int, str]:
    """{5: 'book/ch05_backpropagation', ...} from the chapter files present."""
    docs = {}
    for path in sorted((srcdir / "book").glob("ch[0-9][0-9]_*.ipynb")):
        docs[int(path.name[2:4])] = f"book/{path.stem}"
    return docs


def link_chapters(text: str, docs: dict[int, str]) -> str:
    """'chapters 5 and 8' -> ':doc:`chapters 5 </book/ch05_...>` and :doc:`8 </book/ch08_...>`'."""

    def one(number: str, label: str) -> str:
        doc = docs.get(int(number))
        return f":doc:`{label} </{doc}>`" if doc else label

    def replace(match: re.Match) -> str:
        word, first, rest = match.group(1), match.group(2), match.group(3)
        head = one(first, f"{word} {first}")
        tail = NUMBER.sub(lambda m: one(m.group(0), m.group(0)), rest)
        return head + tail

    return CHAPTER_REF.sub(replace, text)


LITERAL = re.compile(r"(``.+?``)")
LONE_STAR = re.compile(r"(?<![*\\])\*(?![*\s])")  # not bullets, not **bold**
TRAILING_UNDERSCORE = re.compile(r"(\w)_(?=[\s.,;:)]|$)")


def escape_plain(text: str) -> str:
    """Docstrings are plain text with math; keep reST from reading |x|, x*y or clip_ as markup."""
    text = text.replace("|", "\\|")
    text = LONE_STAR.sub(r"\\*", text)
    return TRAILING_UNDERSCORE.sub(r"\1\\_", text)


def rewrite_line(line: str, docs: dict[int, str]) -> str:
    """Escape and link the parts of a docstring line outside ``literal`` spans."""
    parts = LITERAL.split(line)
    return "".join(p if i % 2 else link_chapters(escape_plain(p), docs) for i, p in enumerate(parts))


SECTION = re.compile(r"^(\s*)([A-Z][\w ,]*):\s*$")


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def sections_to_lists(lines: list[str]) -> list[str]:
    """'Shapes:' / 'Raises:' blocks of indented entries -> a bold title and a bullet list.

    An entry's hanging-indent continuation lines are joined to it, so
    ``X: text`` entries never turn into malformed reST definition lists.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = SECTION.match(lines[i])
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not match or not nxt.strip() or indent_of(nxt) <= len(match.group(1)):
            out.append(lines[i])
            i += 1
            continue
        base, entry_indent = match.group(1), indent_of(nxt)
        out += [f"{base}**{match.group(2)}:**", ""]
        i += 1
        while i < len(lines) and lines[i].strip() and indent_of(lines[i]) >= entry_indent:
            if indent_of(lines[i]) == entry_indent:
                out.append(f"{base}* {lines[i].strip()}")
            else:
                out[-1] += " " + lines[i].strip()
            i += 1
        out.append("")
    return out


def process_docstring(app, what, name, obj, options, lines):
    docs = chapter_docs(Path(app.srcdir))
    lines[:] = sections_to_lists(lines)
    in_code = False
    for i, line in enumerate(lines):
        if line.rstrip().endswith("::") or line.lstrip().startswith(">>>"):
            in_code = True  # a literal block follows: leave it verbatim
            continue
        if in_code and line and not line[0].isspace():
            in_code = False
        if not in_code:
            lines[i] = rewrite_line(line, docs)


def provenance_line(meta: dict) -> str:
    p = meta.get("dlbook", {}).get("provenance", {})
    if not p:
        return ""
    versions = ", ".join(f"{k} {p[k]}" for k in ("python", "numpy", "torch") if p.get(k))
    return (f"Outputs on this page were produced by dlbook {p.get('dlbook', '?')} at commit "
            f"{p.get('commit', '?')} on {p.get('device', '?')} ({versions}).")


def add_provenance(app, doctree):
    docname = app.env.docname
    if not re.fullmatch(r"book/ch\d\d_\w+", docname):
        return
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    line = provenance_line(json.loads(path.read_text(encoding="utf-8")).get("metadata", {}))
    if line:
        para = nodes.paragraph(text=line, classes=["dlbook-provenance"])
        sections = list(doctree.findall(nodes.section))
        (sections[0] if sections else doctree).append(para)


def canonical_name(target: str, module: str | None) -> str | None:
    """'dlbook.layers.Sequential' -> 'dlbook.layers.container.Sequential' (where it is documented)."""
    candidates = [target] + ([f"{module}.{target}"] if module and "." not in target else [])
    for name in candidates:
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            home = getattr(obj, "__module__", None)
            qual = getattr(obj, "__qualname__", None)
            if inspect.ismodule(obj):
                return obj.__name__
            if home and qual:
                return f"{home}.{qual}"
            break
    return None


def resolve_alias(app, env, node, contnode):
    """Resolve references to re-exported dlbook names; show numpy/private names as plain text."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    external = ("numpy", "np.", "torch", "keras", "gymnasium", "matplotlib", "scipy", "sklearn")
    if target.startswith(external) or any(p.startswith("_") for p in target.split(".")):
        return contnode  # not in this book's reference: plain text, no warning
    name = canonical_name(target, node.get("py:module"))
    if not name or name == target:
        return None
    domain = env.get_domain("py")
    for role in (node.get("reftype"), "obj"):
        found = domain.resolve_xref(env, node["refdoc"], app.builder, role, name, node, contnode)
        if found is not None:
            return found
    return None


def chapter_number(docname: str) -> int | None:
    """15 for 'book/ch15_lstm_gru'; None for pages that are not chapters."""
    match = re.fullmatch(r"book/ch(\d\d)_[\w-]+", docname)
    return int(match.group(1)) if match else None


def number_per_chapter(app, env) -> list[str]:
    """Renumber numfig's book-wide counters (equations, figures, ...) chapter by chapter.

    Runs after Sphinx's toctree collector has filled ``env.toc_fignumbers`` (priority 900):
    within a chapter the order is kept, only the numbers become (chapter, k).
    """
    for docname, by_type in env.toc_fignumbers.items():
        chapter = chapter_number(docname)
        if chapter is None:
            continue
        for figtype, numbers in by_type.items():
            in_order = sorted(numbers, key=numbers.get)
            by_type[figtype] = {fig_id: (chapter, k) for k, fig_id in enumerate(in_order, 1)}
    return []


def add_static(app):
    static = str(Path(__file__).parent / "static")
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("doctree-read", add_provenance)
    app.connect("builder-inited", add_static)
    app.connect("missing-reference", resolve_alias)
    app.connect("env-get-updated", number_per_chapter, priority=900)
    app.add_css_file("dlbook.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

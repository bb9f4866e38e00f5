"""The PDF of the book: LaTeX-only changes (loaded through ``local_extensions`` in _config.yml).

Everything here runs for the LaTeX builder alone (``make pdf``); the HTML build
does not change.

1. Numbers: a chapter's title carries its number ("5. Backpropagation"), some
   section titles theirs ("2.1 The affine map"), a part's caption its own
   ("Part I — Foundations"); LaTeX numbers all three itself, so the titles
   lose theirs, after a check that LaTeX's count gives the same number.
2. Back matter: the part after the last chapter (notation, glossary, results,
   API reference, bibliography) has unnumbered chapters and sections.
3. Solutions: every ``{solution}`` of a chapter moves to a "Solutions" section at
   the end of that chapter; its exercise keeps a link to it with its page.
4. Packages: jupyterBook.cls (sphinx-jupyterbook-latex) loads ``bbm``, which
   Debian ships only in texlive-fonts-extra (1.4 GB); a stand-in maps
   ``\\mathbbm`` to ``\\mathbb``, which unicode-math draws. Its preamble also
   loads ``ucharclasses``, which nothing uses and which puts a space between
   xeCJK's Chinese and the next Latin punctuation mark: it is dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

CHAPTER_DOC = re.compile(r"book/ch(\d\d)_\w+")
NUMBERED_TITLE = re.compile(r"^(\d+)\s*[.·:—–-]\s*")
NUMBERED_SECTION = re.compile(r"^(\d+)\.(\d+)\.?\s+")
PART_CAPTION = re.compile(r"^Part\s+([IVXLC]+)\s*[.·:—–-]\s*")
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
UCHARCLASSES = r"\usepackage[Latin,Greek]{ucharclasses}"
BBM_STY = r"""\ProvidesPackage{bbm}[2026/01/01 dlbook stand-in, mathbbm is mathbb]
\providecommand{\mathbbm}[1]{\mathbb{#1}}
\providecommand{\mathbbmss}[1]{\mathbb{#1}}
\providecommand{\mathbbmtt}[1]{\mathbb{#1}}
"""


def is_solution(node: nodes.Node) -> bool:
    return type(node).__name__ == "solution_node"  # sphinx_exercise.nodes.solution_node


def top_section(start: addnodes.start_of_file) -> nodes.section | None:
    """The chapter's own section: the first section directly inside its start_of_file."""
    return next((c for c in start.children if isinstance(c, nodes.section)), None)


def raw(latex: str) -> nodes.raw:
    return nodes.raw("", latex, format="latex")


def strip_number(section: nodes.section, pattern: re.Pattern, expected: str, where: str) -> None:
    """'5. Backpropagation' -> 'Backpropagation'; warn when LaTeX would print another number."""
    title = section.next_node(nodes.title)
    text = title.next_node(nodes.Text) if title is not None else None
    match = pattern.match(str(text)) if text is not None else None
    if match is None:
        return
    number = ".".join(g for g in match.groups() if g)
    if number != expected:
        logger.warning("dlbook_latex: %r is numbered %s in its title but %s in the PDF",
                       title.astext(), number, expected, location=where)
        return
    text.parent.replace(text, nodes.Text(str(text)[match.end():]))


def subsections(section: nodes.section) -> list[nodes.section]:
    return [c for c in section.children if isinstance(c, nodes.section)]


def collect_solutions(section: nodes.section, docname: str, registry: dict) -> None:
    """Move the chapter's solutions to a closing "Solutions" section; each exercise links to its own."""
    solutions = [n for n in section.findall(is_solution)]
    if not solutions:
        return
    closing = nodes.section("", ids=[f"{docname.replace('/', '-')}-solutions"],
                            classes=["dlbook-solutions"])
    closing += nodes.title("", "Solutions")
    for solution in solutions:
        label = f"{registry[solution['label']].get('docname', docname)}:{solution['label']}"
        pointer = raw(r"\par\nopagebreak\noindent\hfill{\small\hyperref[%s]{\sphinxstyleemphasis{Solution"
                      r" on page~\pageref*{%s}}}}\par" % (label, label) + "\n")
        solution.replace_self(pointer)
        closing += solution
    section += closing


class PdfChapters(SphinxPostTransform):
    """Chapter numbers, back matter and solutions of the assembled book (LaTeX only)."""

    default_priority = 800  # after sphinx-exercise (<= 22) and sphinx-jupyterbook-latex (700)
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        starts = [n for n in self.document.findall(addnodes.start_of_file)
                  if CHAPTER_DOC.fullmatch(n.get("docname", ""))]
        for count, start in enumerate(starts, 1):
            section = top_section(start)
            if section is None:
                continue
            strip_number(section, NUMBERED_TITLE, str(count), start["docname"])
            for k, sub in enumerate(subsections(section), 1):
                strip_number(sub, NUMBERED_SECTION, f"{count}.{k}", start["docname"])
            collect_solutions(section, start["docname"], self.env.sphinx_exercise_registry)
        parts = [n for n in self.document.findall(addnodes.start_of_file)
                 if n.get("docname") not in self.env.all_docs]  # made from _toc.yml captions
        for k, part in enumerate(parts, 1):
            section = top_section(part)
            if section is not None:
                strip_number(section, PART_CAPTION, ROMAN[k - 1] if k <= len(ROMAN) else "?", "_toc.yml")
        if starts:
            self.unnumber_back_matter(parts)

    def unnumber_back_matter(self, parts: list[addnodes.start_of_file]) -> None:
        """The first part holding no chapter starts the back matter."""
        for part in parts:
            if not any(CHAPTER_DOC.fullmatch(n.get("docname", ""))
                       for n in part.findall(addnodes.start_of_file)):
                part.parent.insert(part.parent.index(part), raw("\\setcounter{secnumdepth}{-2}\n"))
                return


def write_bbm(app) -> None:
    if app.builder.format == "latex":
        Path(app.outdir, "bbm.sty").write_text(BBM_STY, encoding="utf-8")


def drop_ucharclasses(app, config) -> None:
    elements = config.latex_elements
    elements["preamble"] = elements.get("preamble", "").replace(UCHARCLASSES, "")


def setup(app):
    app.add_post_transform(PdfChapters)
    app.connect("config-inited", drop_ucharclasses, priority=900)  # after sphinx-jupyterbook-latex
    app.connect("builder-inited", write_bbm)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

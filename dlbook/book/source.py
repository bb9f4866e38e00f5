"""Show the package's real source in a notebook, so the code on the page is the tested code.

``show_source(dlbook.functional.softmax)`` displays the function's source as a
highlighted code block (Markdown, rendered by Jupyter and by the HTML book)
with a header naming its module and file. Its plain-text form is the source
itself, so nbval fails if the stored page and the package ever disagree.
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path


class SourceCode:
    """The source of one package object, displayable in Jupyter.

    ``text`` holds the source; ``qualname`` the dotted name; ``location``
    the file, relative to the package root (no line numbers, so an edit
    elsewhere in the file leaves the chapters' stored outputs unchanged).
    """

    def __init__(self, qualname: str, location: str, text: str, api: str | None = None):
        self.qualname = qualname
        self.location = location
        self.text = text
        self.api = api or qualname

    def _repr_markdown_(self) -> str:
        link = f" · [API reference](#{self.api})"  # the book resolves it to the entry in book/api/
        header = f"**`{self.qualname}`** — `{self.location}`{link}"
        return f"{header}\n\n```python\n{self.text}```\n"

    def __repr__(self) -> str:
        return f"# {self.qualname} ({self.location})\n{self.text}"


def _package_relative(path: str) -> str:
    """'/site-packages/dlbook/functional/losses.py' -> 'dlbook/functional/losses.py'."""
    parts = Path(path).parts
    if "dlbook" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("dlbook"):])
    return Path(path).name


def api_target(obj) -> str:
    """The dotted name of the API-reference entry that documents ``obj``.

    The reference (book/api/, Sphinx autodoc) documents public names with a
    docstring; a private or undocumented object links to its class or module.
    """
    if inspect.ismodule(obj):
        return obj.__name__
    module = getattr(obj, "__module__", "") or ""
    parts = getattr(obj, "__qualname__", "").split(".")
    holder = inspect.getmodule(obj)
    for depth in range(len(parts), 0, -1):
        name = parts[:depth]
        target = holder
        for part in name:
            target = getattr(target, part, None)
        public = not any(p.startswith("_") or p == "<locals>" for p in name)
        if public and target is not None and inspect.getdoc(target):
            return ".".join([module, *name])
    return module


def show_source(obj) -> SourceCode:
    """Return the source of a function, class or module of ``dlbook`` for display.

    Put it last in a notebook cell: Jupyter renders it as a code block.
    Raises ``TypeError`` for objects without Python source (builtins, numbers).
    """
    try:
        lines, _ = inspect.getsourcelines(obj)
        path = inspect.getsourcefile(obj)
    except (TypeError, OSError) as err:
        raise TypeError(
            f"show_source expected a function, class or module with Python source; "
            f"got {type(obj).__name__} ({err})"
        ) from None
    module = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
    name = getattr(obj, "__qualname__", None)
    qualname = f"{module}.{name}" if name and not inspect.ismodule(obj) else module
    # the file, not its line numbers: editing the package elsewhere leaves the page unchanged
    location = _package_relative(path)
    return SourceCode(qualname, location, textwrap.dedent("".join(lines)), api_target(obj))

"""Where the book's pages are: read from _toc.yml and _config.yml (used by the book tests)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def _entries(entries: list[dict]) -> list[str]:
    """Files of TOC entries and of their sections (globs expanded), in order."""
    files = []
    for entry in entries:
        if "file" in entry:
            files.append(entry["file"])
        if "glob" in entry:
            files += sorted(str(p.relative_to(ROOT).with_suffix("")) for p in ROOT.glob(entry["glob"] + ".*"))
        files += _entries(entry.get("sections", []))
    return files


def toc_files() -> list[str]:
    """Every file named in _toc.yml, root first, without suffix (e.g. 'book/ch01_perceptron')."""
    files = [TOC["root"]]
    for part in TOC.get("parts", []):
        files += _entries(part["chapters"])
    files += _entries(TOC.get("chapters", []))
    return files


def source_of(name: str) -> Path:
    """The source file (.ipynb or .md) of a TOC entry."""
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{name}{suffix}").exists():
            return ROOT / f"{name}{suffix}"
    raise FileNotFoundError(f"{name}: no .ipynb or .md source")


def chapters() -> list[str]:
    """TOC entries that are notebooks (the executable chapters)."""
    return [f for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def html_pages() -> list[str]:
    """Relative URLs of every page of the built book."""
    return ["index.html" if f == TOC["root"] else f"{f}.html" for f in toc_files()]


def chapter_paths() -> list[Path]:
    """The chapter notebooks listed in _toc.yml, in book order."""
    return [ROOT / f"{c}.ipynb" for c in chapters()]

"""Collect every chapter's result records (book/results/chNN.json) into book/results.md.

Usage: python scripts/collect_results.py [--check]   (--check: fail if the page is stale)
`make outputs` runs it after executing the chapters.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "book" / "results"
PAGE = ROOT / "book" / "results.md"

HEAD = """# Results

Every headline number the chapters print, as the notebooks recorded it with
`dlbook.book.results.record` when their stored outputs were produced. A test
(`tests/book/test_results_registry.py`) fails when a chapter's printed line and its
record disagree. Runtime is the time from the start of the chapter's kernel to
the moment the number was recorded. The same records are in
`book/results/chNN.json` in the repository, for programs.
"""


def chapter_doc(chapter: str) -> str | None:
    found = sorted((ROOT / "book").glob(f"{chapter}_*.ipynb"))
    return found[0].stem if found else None


def page() -> str:
    parts = [HEAD]
    for path in sorted(RESULTS.glob("ch[0-9][0-9].json")):
        chapter = path.stem
        doc = chapter_doc(chapter)
        title = f"{{doc}}`{doc}`" if doc else chapter
        parts.append(f"\n## {chapter.replace('ch', 'Chapter ')}\n\nFrom {title}.\n")
        parts.append("| result | value | seed | device | runtime | versions |")
        parts.append("|---|---|---|---|---|---|")
        for name, r in json.loads(path.read_text(encoding="utf-8")).items():
            unit = f" {r['unit']}" if r.get("unit") else ""
            seed = "" if r.get("seed") is None else r["seed"]
            runtime = "" if r.get("runtime_s") is None else f"{r['runtime_s']:.0f} s"
            versions = ", ".join(f"{k} {v}" for k, v in r.get("versions", {}).items())
            parts.append(f"| `{name}` | {r['text']}{unit} | {seed} | {r.get('device', '')} "
                         f"| {runtime} | {versions} |")
    return "\n".join(parts) + "\n"


def main(check: bool) -> int:
    text = page()
    if check:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print("book/results.md is stale: run python scripts/collect_results.py")
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))

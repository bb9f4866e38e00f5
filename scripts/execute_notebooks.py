"""Re-execute chapters in place so their stored outputs match the package (`make outputs`).

- runs each notebook with its own directory as cwd (as nbval and myst-nb do);
- uses the kernel of the current environment (python3), whatever the notebook says;
- records provenance in the notebook's metadata (``dlbook.provenance``: dlbook version,
  git commit of the package, device, Python/numpy/torch versions); the book prints it
  in one line at the end of the chapter page (book/_ext/dlbook_sphinx.py);
- drops per-cell timing metadata and merges consecutive chunks of the same output stream
  (the kernel splits printed text unpredictably under load), so a re-run without changes
  gives a byte-identical file.

Usage: python scripts/execute_notebooks.py book/ch01_perceptron.ipynb [...]
"""

import os
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELL_TIMEOUT_S = 600


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks into one output, as nbval compares them."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.output_type == "stream" and prev is not None and prev.output_type == "stream"
                and prev.name == out.name):
            prev.text += out.text
        else:
            merged.append(out)
    return merged


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent.parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


@lru_cache(maxsize=1)
def provenance() -> dict:
    """What produced the stored outputs: the package's versions and device, and its git commit."""
    from dlbook.book.provenance import provenance as package_provenance

    commit = git("rev-parse", "--short=10", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "dlbook"):
        commit += "+modified"  # the package differed from that commit when the chapter ran
    return {**package_provenance(import_torch=True), "commit": commit}


def execute(path: Path) -> float:
    """Execute one notebook in place; return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata.pop("widgets", None)
    nb.metadata["dlbook"] = {"provenance": provenance()}
    nbformat.write(nb, path)
    return elapsed


if __name__ == "__main__":
    # dlbook.book.results.record writes each chapter's headline numbers here (collected by
    # scripts/collect_results.py into the book's results page)
    os.environ["DLBOOK_RESULTS_DIR"] = str(Path(__file__).resolve().parent.parent / "book" / "results")
    for arg in sys.argv[1:]:
        print(f"{arg}: executed in {execute(Path(arg)):.1f} s", flush=True)

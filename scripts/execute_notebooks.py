"""Re-execute chapters in place so their stored outputs match the package (`make outputs`).

- runs each notebook with its own directory as cwd (as nbval and myst-nb do);
- uses the kernel of the current environment (python3), whatever the notebook says;
- drops per-cell timing metadata and merges consecutive chunks of the same output stream
  (the kernel splits printed text unpredictably under load), so a re-run without changes
  gives a byte-identical file.

Usage: python scripts/execute_notebooks.py book/ch01_perceptron.ipynb [...]
"""

import sys
import time
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
    nbformat.write(nb, path)
    return elapsed


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"{arg}: executed in {execute(Path(arg)):.1f} s", flush=True)

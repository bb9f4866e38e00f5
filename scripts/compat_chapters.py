"""Execute chapters top to bottom and compare every printed number with the stored one.

Run by scripts/compat.py with the Python of a compatibility environment (it needs only
nbclient, nbformat and ipykernel there). The notebooks are executed in memory, never saved.
A cell that raises, or a chapter that does not finish, fails (exit status 1). Printed numbers
only drift: they are compared with a relative tolerance and reported, never failed (see
DRIFT_TOL for why).

Usage: python scripts/compat_chapters.py [--json out.json] book/ch05_backpropagation.ipynb ...
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
# The chapters print at most 4 significant digits, so rounding alone moves a printed value by
# up to 5e-4 relative (0.9995 vs 1.000); a number within 1e-2 agrees to two or three digits,
# which is all a changed summation order in another numpy/BLAS version leaves of a trained
# network's metric after a few hundred updates. Larger drifts are listed for a human to read.
DRIFT_TOL = 1e-2
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
VERSION = re.compile(r"\b\d+\.\d+\.\d+[\w.+]*")
# The longest chapters start first, so that the two workers finish together (ch18 alone takes
# about a quarter of the book's time at one thread).
SLOW_FIRST = ("ch18_", "ch10_", "ch11_", "ch16_")
IGNORED_TAGS = {"nbval-ignore-output", "nbval-skip", "raises-exception"}


def sanitizers() -> list[tuple[re.Pattern, str]]:
    """The regexes nbval applies (.nbval_sanitize.cfg): timings, addresses, tqdm rates."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".nbval_sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


SANITIZE = sanitizers()


def cell_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "image/png" not in data:  # a figure's text/plain is "<Figure size ...>"
                parts.append(data.get("text/plain", ""))
    text = VERSION.sub("<version>", "".join(parts))  # "Keras 3.15.1": a version, not a result
    for pattern, replacement in SANITIZE:
        text = pattern.sub(replacement, text)
    return text


def first_difference(stored: str, fresh: str) -> tuple[str, str]:
    for old, new in zip(stored.splitlines(), fresh.splitlines()):
        if old != new:
            return old[:160], new[:160]
    return stored[-160:], fresh[-160:]


def compare(stored: str, fresh: str) -> tuple[list[tuple[float, float, float, str]], int, bool]:
    """([(relative drift, stored, fresh, line), ...] of decimals, integers changed, same words?).

    Only decimals drift: an integer in a printout is a count, a label or an index (class 4
    instead of class 0 is a different answer, not a 100 % drift), so integers are counted.
    """
    same_words = NUMBER.sub("#", stored) == NUMBER.sub("#", fresh)
    a, b = list(NUMBER.finditer(stored)), list(NUMBER.finditer(fresh))
    if not same_words or len(a) != len(b):
        return [], 0, False
    drifts, integers = [], 0
    for x, y in zip(a, b):
        old, new = float(x.group()), float(y.group())
        if old == new:
            continue
        if not re.search(r"[.eE]", x.group()):
            integers += 1
            continue
        end = stored.find("\n", x.end())
        line = stored[stored.rfind("\n", 0, x.start()) + 1:len(stored) if end < 0 else end]
        drifts.append((abs(old - new) / max(abs(old), abs(new)), old, new, line.strip()[:100]))
    return drifts, integers, True


def execute(path: str) -> dict:
    stored = nbformat.read(path, as_version=4)
    fresh = nbformat.read(path, as_version=4)
    start = time.time()
    result = {"chapter": Path(path).name, "error": None, "numbers": 0, "drifted": [],
              "integers_changed": 0, "text_differs": []}
    try:
        NotebookClient(fresh, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    except CellExecutionError as err:
        result["error"] = str(err).strip().splitlines()[-1][:300]
    except Exception as err:  # noqa: BLE001 -- a dead kernel or a timeout fails the chapter too
        result["error"] = f"{type(err).__name__}: {err}"[:300]
    result["seconds"] = round(time.time() - start, 1)
    for index, (old, new) in enumerate(zip(stored.cells, fresh.cells)):
        if old.cell_type != "code" or IGNORED_TAGS & set(old.metadata.get("tags", [])):
            continue
        before, after = cell_text(old), cell_text(new)
        drifts, integers, same_words = compare(before, after)
        result["numbers"] += len(NUMBER.findall(before))
        result["integers_changed"] += integers
        if not same_words and not result["error"]:
            old_line, new_line = first_difference(before, after)
            result["text_differs"].append({"cell": index, "stored": old_line, "fresh": new_line})
        result["drifted"] += [{"cell": index, "relative": d, "stored": o, "fresh": n, "line": line}
                              for d, o, n, line in drifts]
    return result


def summarise(results: list[dict]) -> dict:
    drifts = [dict(d, chapter=r["chapter"]) for r in results for d in r["drifted"]]
    beyond = [d for d in drifts if d["relative"] > DRIFT_TOL]
    return {"chapters": len(results), "failed": [r["chapter"] for r in results if r["error"]],
            "numbers_compared": sum(r["numbers"] for r in results), "decimals_changed": len(drifts),
            "integers_changed": sum(r["integers_changed"] for r in results),
            "numbers_beyond_tolerance": len(beyond), "tolerance": DRIFT_TOL,
            "cells_with_different_text": sum(len(r["text_differs"]) for r in results),
            "largest_drifts": sorted(drifts, key=lambda d: -d["relative"])[:10]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="+")
    parser.add_argument("--json", help="write the full report here")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    # Two chapters at a time, one thread each: the stored outputs do not depend on the thread
    # count (nbval checks them at one thread too), and this keeps both cores busy.
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ.setdefault("DLBOOK_RESULTS_DIR", "/tmp/dlbook-compat-results")
    order = sorted(args.chapters, key=lambda p: not Path(p).name.startswith(SLOW_FIRST))
    with ThreadPoolExecutor(args.jobs) as pool:
        done = dict(zip(order, pool.map(execute, order)))
    results = [done[path] for path in args.chapters]
    for r in results:
        status = f"ERROR {r['error']}" if r["error"] else "ok"
        big = sum(d["relative"] > DRIFT_TOL for d in r["drifted"])
        print(f"{r['chapter']:42s} {r['seconds']:6.1f} s  {status}; {r['numbers']} numbers, "
              f"{len(r['drifted'])} decimals changed ({big} beyond {DRIFT_TOL:g}), "
              f"{r['integers_changed']} integers changed, "
              f"{len(r['text_differs'])} cells with different text")
        for diff in r["text_differs"][:3]:
            print(f"    cell {diff['cell']} text differs:\n      stored: {diff['stored']!r}\n"
                  f"      fresh:  {diff['fresh']!r}")
    summary = summarise(results)
    print(json.dumps({k: v for k, v in summary.items() if k != "largest_drifts"}, indent=1))
    for d in summary["largest_drifts"]:
        print(f"  drift {d['relative']:.3g}: {d['chapter']} cell {d['cell']}: {d['stored']:g} -> "
              f"{d['fresh']:g}  [{d['line']}]")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "chapters": results}, indent=1))
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

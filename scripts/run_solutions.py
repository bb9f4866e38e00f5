"""Run every exercise solution after its chapter, and check the numbers its prose states.

The chapters show their solutions as code inside ``{solution}`` dropdowns; nbval never runs
them. This script does (``make test-solutions``). For each chapter notebook it starts a kernel
(nbclient, the chapter's folder as working directory, as nbval does), runs the chapter's code
cells, then runs the code blocks of every ``{solution}`` directive, in document order, in the
same kernel; after a solution's blocks come the Python blocks of its exercise (the checker calls
such as ``check_softmax(softmax)``), so a solution must also pass its exercise's checker. The
printed output of a solution (stdout and the value of a last expression) is compared with the
numbers its prose states. Exit status 1 on any failure; a chapter cell that raises fails the
chapter (its solutions are not run).

A solution fails when
- one of its code blocks raises (the report names the chapter file, the exercise label and the
  error), or runs past the timeout;
- a block tagged ``# raises: Name`` does not raise ``Name``;
- its prose states a number that its code did not print (the rule is below).

Tags (the first line of a solution's code block, a plain Python comment the reader sees):
- ``# not run: <reason>``: the block is shown, never run (pseudo-code, a fragment that belongs
  inside the reader's own function, a sketch that needs a GPU or hours);
- ``# raises: ValueError``: the block must raise exactly this exception (the solution
  demonstrates the error); it counts as run when it does.
Only fences marked ``python`` (or ``py``, ``python3``, ``ipython``, ``ipython3``) are code.

The number rule (deliberately simple):
- the *prose* of a solution is its text outside fenced code and outside inline code
  (backticks); math counts as prose;
- a *stated number* is a decimal number written with a decimal point and at least two
  significant digits ("0.93", "0.9260", "2.25", "1.0", "8.6 \\times 10^9", "4.5e-3", "92.6%");
  integers ("3 steps", "73,856") and one-digit decimals ("0.1", "1e-16") are not checked;
- not stated: numbers in an exponent (``^{0.75}``), numbers right after "section", "chapter",
  "figure", "table", "equation", "version", and numbers written exactly as a number literal
  of the solution's code, of the chapter's code cells (comments and strings excluded) or as a
  number of its exercise's statement (those are inputs such as learning rates, not results);
- each stated number must match a number the solution printed: the printed number, divided by
  the stated power of ten, rounds to the stated number at the stated number of decimals
  (|printed - stated| <= half a unit in the last stated digit; signs are ignored); a stated
  percentage also matches a printed fraction (0.926 for "92.6%");
- the check applies to solutions whose code blocks all ran (a solution with a ``not run``
  block, or with no code, has its prose left unchecked).

Usage: python scripts/run_solutions.py [book/chNN_x.ipynb ...] [--jobs 2] [--timeout 300]
(no chapters: every ``book/ch*.ipynb``). Result records go to a temporary folder
(``DLBOOK_RESULTS_DIR``), never into book/results.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import tokenize
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_CELL_TIMEOUT_S = 600
PYTHON_FENCES = {"python", "py", "python3", "ipython", "ipython3"}

# -- extracting the solutions ----------------------------------------------------------------

DIRECTIVE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
CODE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[^`\s]*)")
TAG = re.compile(r"^\s*#\s*(?P<kind>not run|raises)\s*:\s*(?P<what>.*?)\s*$", re.I)


@dataclass
class Block:
    """One fenced code block of a solution and its tag (None, "not run" or "raises")."""

    code: str
    tag: str | None = None
    detail: str = ""  # the reason of "not run", the exception name of "raises"


@dataclass
class Solution:
    label: str
    prose: str
    blocks: list[Block] = field(default_factory=list)
    other_code: list[str] = field(default_factory=list)  # fences that are not Python


def _directives(text: str, name: str) -> list[tuple[str, list[str]]]:
    """(argument, body lines) of every ``{name}`` directive in a markdown text."""
    found, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = DIRECTIVE_OPEN.match(lines[i].strip())
        if not m or m["name"] != name:
            i += 1
            continue
        body, i = _until_fence(lines, i + 1, m["fence"])
        found.append((m["arg"], body))
    return found


def _until_fence(lines: list[str], i: int, fence: str) -> tuple[list[str], int]:
    """The lines from i up to the line that closes ``fence`` (the same character, at least as
    many), and the index just after that closing line."""
    inside = []
    while i < len(lines):
        line = lines[i].strip()
        if line and set(line) == {fence[0]} and len(line) >= len(fence):
            break
        inside.append(lines[i])
        i += 1
    return inside, i + 1


def _split_code(body: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Split a directive body into prose lines and (language, code) fenced blocks."""
    prose, blocks, i = [], [], 0
    while i < len(body):
        m = CODE_OPEN.match(body[i].strip())
        if not m or m["fence"][0] == "`" and "`" in body[i].strip()[len(m["fence"]):]:
            if not body[i].lstrip().startswith(":"):  # directive options such as :class:
                prose.append(body[i])
            i += 1
            continue
        code, i = _until_fence(body, i + 1, m["fence"])
        blocks.append((m["lang"].lower(), "\n".join(code)))
    return prose, blocks


def _block(code: str) -> Block:
    first = code.strip().split("\n", 1)[0]
    m = TAG.match(first)
    if not m:
        return Block(code)
    return Block(code, m["kind"].lower(), m["what"])


def markdown_cells(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "markdown"]


def extract_solutions(nb: dict) -> list[Solution]:
    """Every ``{solution}`` directive of a notebook, in document order."""
    solutions = []
    for text in markdown_cells(nb):
        for arg, body in _directives(text, "solution"):
            prose, blocks = _split_code(body)
            sol = Solution(label=arg.split()[0] if arg else "(no label)", prose="\n".join(prose))
            for lang, code in blocks:
                if lang in PYTHON_FENCES:
                    sol.blocks.append(_block(code))
                else:
                    sol.other_code.append(code)
            solutions.append(sol)
    return solutions


def exercise_statements(nb: dict) -> dict[str, tuple[str, list[Block]]]:
    """The text and the Python blocks (checker calls) of every ``{exercise}``, by its ``:label:``."""
    statements = {}
    for text in markdown_cells(nb):
        for _, body in _directives(text, "exercise"):
            label = next((ln.split(":label:", 1)[1].strip() for ln in body if ":label:" in ln), None)
            if label:
                _, blocks = _split_code(body)
                statements[label] = ("\n".join(body),
                                     [_block(code) for lang, code in blocks if lang in PYTHON_FENCES])
    return statements


# -- the number rule --------------------------------------------------------------------------

_GROUPED = r"\d{1,3}(?:(?:,|\{,\})\d{3})+"
STATED = re.compile(
    r"(?<![\w.])(?P<num>(?:" + _GROUPED + r"|\d+)\.\d+)(?![\d.]*\.\d)"
    r"(?P<exp>\s*(?:\\times|×|\\cdot)\s*10\^\{?(?P<pow>[-−]?\d+)\}?|[eE](?P<epow>[-+]?\d+))?"
    r"(?P<pct>\s*\\?%)?")
EXPONENT_BEFORE = re.compile(r"\^\{?[-−]?$")
CONTEXT_BEFORE = re.compile(r"(section|chapter|figure|table|equation|eq\.|version)\s*$", re.I)
PRINTED = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)"
                     r"(?:[eE][-+]?\d+)?")
LITERAL = re.compile(r"(?<![\w.])(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
INLINE_CODE = re.compile(r"`[^`\n]*`")


@dataclass
class Stated:
    text: str
    mantissa: float  # the digits as written
    decimals: int
    power: int  # stated power of ten
    percent: bool

    def matches(self, printed: float) -> bool:
        candidates = [printed, printed * 100] if self.percent else [printed]
        half = 0.5 * 10.0 ** -self.decimals * (1 + 1e-9)
        return any(math.isfinite(p) and abs(abs(p) / 10.0 ** self.power - self.mantissa) <= half
                   for p in candidates)


def significant_digits(digits: str) -> int:
    return len(digits.replace(".", "").lstrip("0"))


def code_literals(code: str) -> set[str]:
    """The number literals of Python code as written (comments and strings excluded)."""
    try:
        return {tok.string.lower().replace("_", "")
                for tok in tokenize.generate_tokens(io.StringIO(code).readline)
                if tok.type == tokenize.NUMBER}
    except (tokenize.TokenError, IndentationError, SyntaxError):  # IPython magics and the like
        code = re.sub(r"#.*", "", re.sub(r"(['\"]).*?\1", "", code))
        return set(LITERAL.findall(code))


def text_literals(text: str) -> set[str]:
    """The numbers of a text (an exercise statement) as written, thousands separators removed."""
    return set(LITERAL.findall(text.replace("{,}", "").replace(",", "")))


def stated_numbers(prose: str, inputs: set[str] = frozenset()) -> list[Stated]:
    """The numbers a solution's prose states, by the rule of the module docstring."""
    text = INLINE_CODE.sub(" ", prose)
    found = []
    for m in STATED.finditer(text):
        digits = m["num"].replace("{,}", "").replace(",", "")
        if significant_digits(digits) < 2:
            continue
        before = text[max(0, m.start() - 20):m.start()]
        if EXPONENT_BEFORE.search(before) or CONTEXT_BEFORE.search(before):
            continue
        power = m["pow"] or m["epow"] or "0"
        stated = Stated(m.group().strip(), float(digits), len(digits.split(".")[1]),
                        int(power.replace("−", "-")), bool(m["pct"]))
        if stated.power == 0 and digits in inputs:
            continue
        found.append(stated)
    return found


def printed_numbers(text: str) -> list[float]:
    return [float(m.group().replace(",", "")) for m in PRINTED.finditer(text)]


def number_mismatches(solution: Solution, printed: str, statement: str = "",
                      chapter_code: str = "") -> list[str]:
    """The stated numbers of a solution that its printed output does not contain."""
    inputs = (code_literals("\n".join(b.code for b in solution.blocks)) | code_literals(chapter_code)
              | text_literals(statement))
    values = printed_numbers(printed)
    return [s.text for s in stated_numbers(solution.prose, inputs)
            if not any(s.matches(p) for p in values)]


# -- running a chapter ------------------------------------------------------------------------

def _text_of(outputs: list) -> str:
    """What a cell printed: stdout and the text of its last expression."""
    parts = []
    for out in outputs:
        if out.output_type == "stream" and out.name == "stdout":
            parts.append(out.text)
        elif out.output_type == "execute_result":
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _check_block(block: Block, error: tuple[str, str] | None) -> str | None:
    """The problem with one executed block, or None."""
    if block.tag == "raises":
        if error is None:
            return f"tagged '# raises: {block.detail}' but raised nothing"
        if error[0] != block.detail:
            return f"tagged '# raises: {block.detail}' but raised {error[0]}: {error[1]}"
        return None
    return f"{error[0]}: {error[1]}" if error else None


def run_chapter(path: str, timeout: int = 300) -> dict:
    """Run one chapter and its solutions; return a report (a plain dict, picklable).

    The chapter's code cells run first; a chapter cell that raises stops the chapter (its
    solutions are "not checked", and the chapter counts as failed). Then each solution's
    blocks run, followed by the Python blocks of its exercise (the checker calls shown to the
    reader), so a solution must also pass its exercise's checker.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb_json = nbformat.read(path, as_version=4)
    solutions = extract_solutions(nb_json)
    exercises = exercise_statements(nb_json)
    chapter_code = "\n".join(c.source for c in nb_json.cells if c.cell_type == "code")
    report = {"chapter": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
              "solutions": [], "chapter_error": None, "seconds": 0.0, "chapter_seconds": 0.0}
    start = time.perf_counter()
    nb = nbformat.v4.new_notebook()
    nb.metadata = nb_json.metadata
    client = NotebookClient(nb, timeout=CHAPTER_CELL_TIMEOUT_S, kernel_name="python3",
                            allow_errors=True, interrupt_on_timeout=True, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    replies = []
    client.on_cell_executed = lambda **kw: replies.append(kw["execute_reply"])

    def run(source: str, cell_timeout: int) -> tuple[str, tuple[str, str] | None]:
        """Execute one cell; return its printed text and (ename, evalue) if it raised."""
        cell = nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)
        client.timeout = cell_timeout
        client.error_on_timeout = {"ename": "Timeout", "evalue": f"no reply after {cell_timeout} s",
                                   "traceback": []}
        replies.clear()
        client.execute_cell(cell, len(nb.cells) - 1)
        content = replies[-1]["content"] if replies and replies[-1] else {}
        error = (content["ename"], content.get("evalue", "")) if content.get("status") == "error" else None
        return _text_of(cell.outputs), error

    try:
        # the kernel's stderr (a warning about TCP transport at every start) is not wanted here
        with client.setup_kernel(stderr=subprocess.DEVNULL):
            for i, cell in enumerate(nb_json.cells):
                if cell.cell_type == "code" and cell.source.strip():
                    _, error = run(cell.source, CHAPTER_CELL_TIMEOUT_S)
                    if error:
                        report["chapter_error"] = f"code cell {i} raised {error[0]}: {error[1]}"
                        break
            report["chapter_seconds"] = time.perf_counter() - start
            for sol in solutions:
                report["solutions"].append(_run_solution(sol, exercises.get(sol.label, ("", [])),
                                                         chapter_code, run, timeout,
                                                         bool(report["chapter_error"])))
    except Exception as exc:  # a dead kernel, a failed start: the chapter fails, the run goes on
        report["chapter_error"] = f"{type(exc).__name__}: {exc}"
        done = {s["label"] for s in report["solutions"]}
        report["solutions"] += [{"label": s.label, "status": "not checked", "problems": [],
                                 "blocks": 0, "skipped": 0, "seconds": 0.0}
                                for s in solutions if s.label not in done]
    report["seconds"] = time.perf_counter() - start
    return report


def _run_solution(sol: Solution, exercise: tuple[str, list[Block]], chapter_code: str, run,
                  timeout: int, chapter_failed: bool) -> dict:
    """Run one solution's blocks (then its exercise's checker blocks) and check its numbers."""
    statement, checker_blocks = exercise
    entry = {"label": sol.label, "status": "no code", "problems": [], "blocks": 0, "skipped": 0,
             "seconds": 0.0}
    if chapter_failed:
        entry["status"] = "not checked" if sol.blocks else "no code"
        return entry
    start, printed, all_ran = time.perf_counter(), [], True
    for block in sol.blocks:
        if block.tag == "not run":
            entry["skipped"] += 1
            all_ran = False
            continue
        entry["blocks"] += 1
        text, error = run(block.code, timeout)
        printed.append(text)
        problem = _check_block(block, error)
        if problem:
            entry["problems"].append(problem)
    if entry["blocks"] and not entry["problems"]:
        for block in checker_blocks:
            if block.tag != "not run":
                _, error = run(block.code, timeout)
                problem = _check_block(block, error)
                if problem:
                    entry["problems"].append(f"its exercise's checker call: {problem}")
    entry["seconds"] = time.perf_counter() - start
    if entry["problems"]:
        entry["status"] = "failed"
    elif entry["blocks"]:
        entry["status"] = "run"
        wrong = number_mismatches(sol, "".join(printed), statement, chapter_code) if all_ran else []
        if wrong:
            entry["status"] = "failed"
            entry["problems"].append("prose states " + ", ".join(repr(w) for w in wrong)
                                     + " but the code printed no such number")
    elif entry["skipped"]:
        entry["status"] = "not run"
    return entry


# -- the command ------------------------------------------------------------------------------

STATUSES = ("run", "not run", "failed", "no code")


def summarize(reports: list[dict]) -> tuple[str, int]:
    """The printed table and the number of failures (chapter errors count as failures)."""
    lines, failures = [], []
    totals = dict.fromkeys(STATUSES, 0)
    lines.append(f"{'chapter':<44} {'run':>4} {'tagged':>6} {'failed':>6} {'no code':>7} {'time':>7}")
    for rep in reports:
        counts = dict.fromkeys(STATUSES, 0)
        for sol in rep["solutions"]:
            if sol["status"] in counts:
                counts[sol["status"]] += 1
            if sol["status"] == "failed":
                failures.append(f"{rep['chapter']}: {sol['label']}: " + "; ".join(sol["problems"]))
        if rep["chapter_error"]:
            failures.append(f"{rep['chapter']}: the chapter itself failed ({rep['chapter_error']}); "
                            "its solutions were not run")
            counts["failed"] += sum(s["status"] == "not checked" for s in rep["solutions"])
        for k in STATUSES:
            totals[k] += counts[k]
        lines.append(f"{Path(rep['chapter']).name:<44} {counts['run']:>4} {counts['not run']:>6} "
                     f"{counts['failed']:>6} {counts['no code']:>7} {rep['seconds']:>6.0f}s"
                     f" ({rep['seconds'] - rep['chapter_seconds']:.0f} s in solutions)")
    total = sum(totals.values())
    lines.append(f"{'total (' + str(total) + ' solutions)':<44} {totals['run']:>4} "
                 f"{totals['not run']:>6} {totals['failed']:>6} {totals['no code']:>7}")
    slow = sorted(((s["seconds"], f"{Path(r['chapter']).stem[:4]} {s['label']}") for r in reports
                   for s in r["solutions"]), reverse=True)[:5]
    lines.append("slowest solutions: " + ", ".join(f"{name} {sec:.0f} s" for sec, name in slow))
    if failures:
        lines.append("\nFAILED:")
        lines += [f"  {f}" for f in failures]
    return "\n".join(lines), len(failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter notebooks (default: book/ch*.ipynb)")
    parser.add_argument("--jobs", type=int, default=2, help="chapters run in parallel (default 2)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per solution block")
    args = parser.parse_args(argv)
    paths = [str(Path(p).resolve()) for p in args.chapters] or \
        [str(p) for p in sorted((ROOT / "book").glob("ch*.ipynb"))]
    # kernels inherit the environment: records go to a scratch folder, and the parallel
    # kernels share the cores instead of each using all of them
    scratch = tempfile.TemporaryDirectory(prefix="dlbook-solutions-results-")
    os.environ["DLBOOK_RESULTS_DIR"] = scratch.name
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, args.jobs))))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    start = time.perf_counter()
    reports = []
    # later chapters train bigger models: starting them first keeps both workers busy to the end
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_chapter, p, args.timeout) for p in sorted(paths, reverse=True)]
        for fut in as_completed(futures):
            rep = fut.result()
            reports.append(rep)
            bad = [s["label"] for s in rep["solutions"] if s["status"] == "failed"]
            print(f"{rep['chapter']}: {len(rep['solutions'])} solutions, {rep['seconds']:.0f} s"
                  + (f", FAILED: {', '.join(bad)}" if bad else "")
                  + (f", CHAPTER FAILED: {rep['chapter_error']}" if rep["chapter_error"] else ""),
                  flush=True)
    scratch.cleanup()
    table, failures = summarize(sorted(reports, key=lambda r: r["chapter"]))
    print()
    print(table)
    print(f"\n{failures} failure(s); wall time {time.perf_counter() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

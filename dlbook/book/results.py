"""The results registry: every headline number a chapter prints, also kept as data.

A chapter reports a headline number (an accuracy, a perplexity, a loss, a
speed ratio) with :func:`record` instead of ``print``. It prints one line,
``result ch04.test_accuracy = 0.9260``, and writes a JSON record with the
value, the seed, package versions, the device and the runtime to
``<DLBOOK_RESULTS_DIR or ./results>/<chapter>.json``. ``make outputs``
collects the records of all chapters into the book's results page, and a
test checks that every printed line agrees with its record.

    from dlbook.book.results import record
    record("ch04", "test_accuracy", acc, fmt=".4f", seed=0)
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlbook.book.provenance import provenance

RESULTS_ENV = "DLBOOK_RESULTS_DIR"
"""Environment variable naming the folder for the JSON records (default ``./results``)."""

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CHAPTER = re.compile(r"^ch\d\d$")
LINE = re.compile(r"^result (ch\d\d)\.([a-z][a-z0-9_]*) = (\S+)(?: \S+)?$", re.MULTILINE)
"""A printed result line: chapter, name, formatted value, optional unit."""


@dataclass
class Result:
    """One headline number and where it came from."""

    chapter: str
    name: str
    value: float
    text: str
    unit: str = ""
    seed: int | None = None
    versions: dict = field(default_factory=dict)
    device: str = ""
    runtime_s: float | None = None

    def line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"result {self.chapter}.{self.name} = {self.text}{unit}"


def results_dir() -> Path:
    """The folder for the JSON records: ``$DLBOOK_RESULTS_DIR``, else ``./results``."""
    return Path(os.environ.get(RESULTS_ENV, "results"))


def _process_runtime() -> float | None:
    """Seconds since this process (the notebook's kernel) started; None off Linux."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return round(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 1)


def _format(number: float, fmt: str, name: str) -> str:
    """format() that also takes integer specs ('d') for whole numbers."""
    try:
        if fmt.endswith("d") and number.is_integer():
            return format(int(number), fmt)
        return format(number, fmt)
    except ValueError:
        raise ValueError(f"record: format {fmt!r} does not fit the value {number!r} of {name}") from None


def record(chapter: str, name: str, value: float, *, fmt: str = ".4f", unit: str = "",
           seed: int | None = None) -> None:
    """Print ``result <chapter>.<name> = <value:fmt>`` and save the record as JSON.

    Shapes: value is a real scalar (float, int, numpy or 0-d array).
    The record replaces any earlier one of the same name in ``<chapter>.json``.
    """
    if not isinstance(chapter, str) or not CHAPTER.match(chapter):
        raise ValueError(f"record expected chapter like 'ch04', got {chapter!r}")
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(f"record expected a snake_case name, got {name!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"record expected a real number for {name}, got {type(value).__name__}") from None
    text = _format(number, fmt, name)
    prov = provenance(loaded_only=True)  # torch only when the chapter used it
    device = prov.pop("device")
    result = Result(chapter, name, number, text, unit, seed, prov, device, _process_runtime())
    print(result.line())
    save(result)  # returns None, so a record() that ends a cell adds no second output


def save(result: Result) -> Path:
    """Merge ``result`` into ``<results_dir>/<chapter>.json`` (sorted by name, atomic write)."""
    path = results_dir() / f"{result.chapter}.json"
    records = load(path)
    records[result.name] = asdict(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dict(sorted(records.items())), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load(path: str | os.PathLike) -> dict[str, dict]:
    """The records in one chapter's JSON file ({} when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def printed_results(text: str) -> list[tuple[str, str, str]]:
    """Every ``result chNN.name = value`` line in printed output: (chapter, name, value text)."""
    return LINE.findall(text)

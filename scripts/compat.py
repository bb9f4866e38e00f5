"""Test the package on the oldest and the newest dependency versions it claims (make test-compat).

For each environment (``oldest``: the lower bounds of pyproject.toml, pinned in
compat/oldest.txt; ``newest``: whatever the registry serves today, torch aside):

1. build the package's wheel and install it with its ``[book]`` extra into a fresh venv under
   build/compat/, the way a reader's ``pip install "dlbook[book]"`` does (binary wheels only);
   torch stays the local CPU wheel (torch==2.13.0) in both: any other torch pulls a multi-GB
   CUDA build here;
2. run the unit, gradient and parity tests against the installed wheel (tests/ minus
   tests/book, which checks the book's toolchain, pinned in requirements.txt, not the package);
3. execute every chapter top to bottom (scripts/compat_chapters.py): a cell that raises fails;
   every number a chapter prints is compared with the stored one and the drift is reported.

Usage: python scripts/compat.py oldest|newest [--skip-tests] [--chapters book/ch05*.ipynb ...]
The report (versions, pass counts, largest drift) is printed and saved to build/compat/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "compat"
TORCH = "torch==2.13.0"  # the local CPU wheel (see the module docstring)
# The test tools are not under test: they keep requirements.txt's pins.
TOOLS = ("pytest", "pytest-xdist", "hypothesis", "ipykernel", "nbclient", "nbformat")
REPORTED = ("numpy", "scipy", "matplotlib", "scikit-learn", "tqdm", "torch", "mlxtend",
            "gensim", "gymnasium", "keras", "pandas")


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def tool_pins() -> list[str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1).lower()] = line.split("#")[0].strip()
    return [pins[name] for name in TOOLS]


def build_wheel() -> Path:
    dist = WORK / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", dist, ROOT])
    (wheel,) = dist.glob("dlbook-*.whl")
    return wheel


def make_env(name: str, wheel: Path) -> Path:
    env = WORK / name
    shutil.rmtree(env, ignore_errors=True)
    run([sys.executable, "-m", "venv", env])  # a venv of the base Python that runs this script
    python = env / "bin" / "python"
    run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    constraints = ROOT / "compat" / f"{name}.txt"
    cmd = [python, "-m", "pip", "install", "-q", "--only-binary", ":all:",
           f"{wheel}[book]", TORCH, *tool_pins()]
    if constraints.exists():
        cmd += ["-c", constraints]
    run(cmd)
    return python


def versions(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json"], check=True,
                         capture_output=True, text=True).stdout
    installed = {p["name"].lower(): p["version"] for p in json.loads(out)}
    found = {name: installed.get(name, "-") for name in REPORTED}
    found["python"] = subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                                     check=True, capture_output=True, text=True).stdout.strip()
    return found


def check_installed_copy(python: Path, env: dict) -> None:
    """The tests and chapters must import the wheel's dlbook, not the repository's source."""
    where = subprocess.run([str(python), "-c", "import dlbook; print(dlbook.__file__)"], cwd=ROOT,
                           env=env, check=True, capture_output=True, text=True).stdout.strip()
    if "site-packages" not in where:
        sys.exit(f"compat: dlbook imported from {where}, not from the installed wheel")
    print(f"dlbook imported from {where}")


def unit_tests(python: Path, env: dict, name: str) -> dict:
    junit = WORK / f"{name}-junit.xml"
    proc = subprocess.run([str(python), "-m", "pytest", "tests", "--ignore=tests/book",
                           "-m", "not browser and not pdf", "-q", "-p", "no:cacheprovider",
                           "-n", "2", f"--junitxml={junit}"], check=False, cwd=ROOT, env=env)
    text = junit.read_text() if junit.exists() else ""
    counts = {key: sum(int(v) for v in re.findall(rf'<testsuite[^>]* {key}="(\d+)"', text))
              for key in ("tests", "failures", "errors", "skipped")}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    counts["exit_status"] = proc.returncode
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=["oldest", "newest"])
    parser.add_argument("--skip-tests", action="store_true", help="chapters only")
    parser.add_argument("--chapters", nargs="*", help="default: every book/ch*.ipynb")
    args = parser.parse_args()
    start = time.time()
    WORK.mkdir(parents=True, exist_ok=True)
    python = make_env(args.name, build_wheel())
    env = {**os.environ, "PYTHONSAFEPATH": "1", "MPLBACKEND": "Agg"}
    env.pop("VIRTUAL_ENV", None)
    check_installed_copy(python, env)
    report = {"environment": args.name, "versions": versions(python)}
    print(json.dumps(report["versions"], indent=1), flush=True)
    ok = True
    if not args.skip_tests:
        report["unit_tests"] = tests = unit_tests(python, env, args.name)
        ok &= tests["exit_status"] == 0
    chapters = args.chapters or sorted(str(p) for p in (ROOT / "book").glob("ch[0-9][0-9]_*.ipynb"))
    out = WORK / f"{args.name}-chapters.json"
    proc = subprocess.run([str(python), ROOT / "scripts" / "compat_chapters.py", "--json", out,
                           *chapters], check=False, cwd=ROOT, env=env)
    report["chapters"] = json.loads(out.read_text())["summary"] if out.exists() else None
    ok &= proc.returncode == 0
    report["seconds"] = round(time.time() - start)
    report["passed"] = bool(ok)
    (WORK / f"{args.name}-report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"== compat {args.name}: {'PASSED' if ok else 'FAILED'} in {report['seconds']} s ==")
    print(json.dumps(report, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Launch verified: a chapter opened from Colab or Binder finds itself and installs this package.

- The Colab and Binder URLs (built from _config.yml; the browser test checks the rendered
  buttons carry exactly these) point to files tracked by git on the configured branch.
- The install command of the setup cell names this package, its `book` extra and the
  configured repository.
- The built wheel, installed into a fresh virtual environment, runs a chapter's first code
  cells there (setup cell included) and is the dlbook that gets imported.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

import dlbook
from nbclient import NotebookClient

from bookfiles import CONFIG, ROOT, chapter_paths, chapters

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REPO_URL = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"]["branch"]
REPO = REPO_URL.removeprefix("https://github.com/")
FIRST_CELLS = 2
"""How many code cells of the chapter run in the fresh environment (setup + imports)."""


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def launch_urls(chapter: str) -> tuple[str, str]:
    """The Colab and Binder URLs Jupyter Book builds for a chapter (sphinx-book-theme's scheme)."""
    colab = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/{chapter}.ipynb"
    binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?urlpath=tree/{chapter}.ipynb"
    return colab, binder


@pytest.mark.parametrize("chapter", chapters())
def test_launch_urls_point_to_a_tracked_chapter_on_the_branch(chapter):
    colab, binder = launch_urls(chapter)
    path = re.search(rf"/blob/{BRANCH}/(.+)$", colab).group(1)
    assert path == f"{chapter}.ipynb" and (ROOT / path).exists()
    assert git("ls-files", "--", path).strip() == path, f"{path} is not tracked by git"
    assert binder.endswith(f"urlpath=tree/{path}")
    if BRANCH in git("branch", "--list", "--format=%(refname:short)").split():
        assert git("ls-tree", "--name-only", BRANCH, "--", path).strip() == path, f"{path} not on {BRANCH}"


@pytest.mark.parametrize("path", chapter_paths(), ids=lambda p: p.stem[:4])
def test_install_command_names_this_package_and_its_extra(path):
    setup = next(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    m = re.search(r'%pip install -q "(\w+)\[(\w+)\] @ git\+(\S+)"', setup)
    assert m, f"{path.name}: no install command in the setup cell"
    name, extra, url = m.groups()
    assert name == PYPROJECT["project"]["name"] and url == REPO_URL
    assert extra in PYPROJECT["project"]["optional-dependencies"]


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory):
    """A fresh venv with the built wheel installed; third-party packages come from the test venv."""
    tmp = tmp_path_factory.mktemp("fresh")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp / "dist"), str(ROOT)], check=True, timeout=300)
    wheel = next((tmp / "dist").glob("dlbook-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    deps = subprocess.run([sys.executable, "-c", "import numpy, os; print(os.path.dirname(os.path.dirname(numpy.__file__)))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # numpy, torch, ipykernel ... without a download; a plain path line does not run the
    # test venv's .pth files, so its editable dlbook stays invisible here
    (Path(site) / "test_venv_packages.pth").write_text(deps + "\n")
    return python, site


def test_built_wheel_runs_a_chapters_first_cells_in_a_fresh_venv(fresh_python, tmp_path):
    python, site = fresh_python
    kernels = tmp_path / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh", "language": "python"}))
    chapter = chapter_paths()[0]
    nb = nbformat.read(chapter, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"][:FIRST_CELLS]
    probe = nbformat.v4.new_code_cell("import dlbook, numpy; print(dlbook.__file__); print(dlbook.__version__)")
    nb.cells = code + [probe]
    env_before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(tmp_path)
    try:
        NotebookClient(nb, timeout=120, kernel_name="fresh",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("JUPYTER_PATH")
        else:
            os.environ["JUPYTER_PATH"] = env_before
    printed = nb.cells[-1].outputs[0]["text"].split()
    assert printed[0].startswith(site), f"imported {printed[0]}, not the installed wheel"
    assert printed[1] == dlbook.__version__  # the wheel's version comes from the package (pyproject: dynamic)

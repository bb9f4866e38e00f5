"""The package's folders by role (CONTRIBUTING.md, "Where things live"): no import runs back up a floor."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dlbook"
MAX_LINES = 300

# folder (or root module) -> dlbook subpackages it must never import, at module level or inside a function
FORBIDDEN = {
    "functional": {"layers", "models", "diagnostics", "twins", "torch_models", "plot", "book", "train"},
    "layers": {"models", "diagnostics", "twins", "torch_models", "plot", "book", "train"},
    "optim": {"layers", "models", "diagnostics", "twins", "torch_models", "plot", "book"},
    "autograd": {"layers", "models", "diagnostics", "twins", "torch_models", "plot", "book"},
    "init.py": {"optim", "layers", "models", "diagnostics", "twins", "torch_models", "plot", "book"},
    "diagnostics": {"models", "twins", "torch_models", "plot", "book"},
    "models": {"twins", "torch_models", "plot", "book"},
    "data": {"layers", "models", "diagnostics", "twins", "torch_models", "plot", "book"},
}


def imported_subpackages(path: Path) -> set[str]:
    """The second component of every ``dlbook.x...`` module the file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + ([f"{node.module}.{a.name}" for a in node.names]
                                       if node.module == "dlbook" else [])
        else:
            continue
        names |= {m.split(".")[1].removesuffix(".py") for m in modules
                  if m.startswith("dlbook.") and len(m.split(".")) > 1}
    return names


def files_of(place: str) -> list[Path]:
    target = PACKAGE / place
    return [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))


@pytest.mark.parametrize("place", sorted(FORBIDDEN))
def test_no_import_runs_back_up_a_floor(place):
    bad = {f"{p.relative_to(PACKAGE)} imports dlbook.{name}"
           for p in files_of(place) for name in imported_subpackages(p) & FORBIDDEN[place]}
    assert not bad, sorted(bad)


def test_layers_live_only_in_layers():
    """A class with forward and backward outside layers/ is a model (it composes layers) or a twin."""
    from dlbook.layers import Layer
    import dlbook.models as models

    leaked = [name for name in models.__all__
              if isinstance(getattr(models, name), type) and issubclass(getattr(models, name), Layer)
              and getattr(models, name).__module__.startswith("dlbook.layers")]
    assert not leaked, f"dlbook.models re-exports layers: {leaked}"


def test_no_package_file_over_the_line_limit():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines: {long}"

"""The house of ``callrec/`` has floors and no circles: a scan of every import (``ast``, imports
written inside functions and under ``TYPE_CHECKING`` included) finds no circle between modules, no
import running up from a lower floor to a higher one, and no import of another package's private
module. Run alone after any merge: ``python -m pytest -q tests/test_imports.py``.

A package face (``callrec.vault`` …) is transparent: ``from callrec.vault import Vault`` is an edge
to the module that defines ``Vault`` (the face's own import lines say which).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from callrec.lazy import face_imports

ROOT = Path(__file__).resolve().parent.parent / "callrec"

#: Floors, bottom first: a module may import from its own floor or below, never from above. Read
#: from the code: the base is what every floor needs (errors, config, times, identity, output
#: helpers); the vault sits on it; ASR on the vault; capture, case packages and health on ASR and
#: the vault; the access layer's use cases on all of those; the daemon serves the access layer and
#: runs capture; front ends and test generators stand on top, and nothing imports them.
FLOORS: tuple[frozenset[str], ...] = tuple(frozenset(f) for f in (
    {"callrec", "callrec.errors", "callrec.config", "callrec.timefmt", "callrec.identity", "callrec.systemd",
     "callrec.progress", "callrec.lazy", "callrec.jsoncodec", "callrec.lockfile", "callrec.numbers",
     "callrec.signals"},
    {"callrec.vault"},
    {"callrec.asr"},
    {"callrec.capture", "callrec.evidence", "callrec.health"},
    {"callrec.access"},
    {"callrec.daemon"},
    {"callrec.cli", "callrec.ui", "callrec.demo", "callrec.testing", "callrec.__main__"},
))


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(ROOT.rglob("*.py"))}
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def _faces() -> dict[str, dict[str, tuple[str, str]]]:
    return {name: face_imports(MODULES[name].read_text(encoding="utf-8")) for name in PACKAGES}


FACES = _faces()


def _resolve(module: str, name: str | None) -> str:
    """The module an import reaches: a submodule, the module a face takes a name from, or the module."""
    if name is not None and f"{module}.{name}" in MODULES:
        return f"{module}.{name}"
    if name is not None and name in FACES.get(module, {}):
        return _resolve(FACES[module][name][0], FACES[module][name][1])
    return module


def _imports(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, module as written, module reached) for every import of a callrec module in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "callrec":
                    yield node.lineno, alias.name, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.split(".")[0] == "callrec":
                for alias in node.names:
                    yield node.lineno, f"{node.module}.{alias.name}", _resolve(node.module, alias.name)


EDGES: dict[str, set[str]] = defaultdict(set)
WHERE: dict[tuple[str, str], str] = {}
for _module, _path in MODULES.items():
    for _line, _written, _reached in _imports(_path):
        if _reached != _module and _reached in MODULES:
            EDGES[_module].add(_reached)
            WHERE.setdefault((_module, _reached), f"{_path.relative_to(ROOT.parent)}:{_line} ({_written})")


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _floor(module: str) -> int:
    package = _package(module)
    for i, floor in enumerate(FLOORS):
        if package in floor:
            return i
    raise AssertionError(f"{package} is on no floor: add it to FLOORS in tests/test_imports.py")


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_scan_sees_the_whole_package():
    assert len(MODULES) > 100 and "callrec.vault._store" in MODULES
    assert EDGES["callrec.cli.calls"] >= {"callrec.cli._context"}
    # a face is transparent: the access layer's use of Vault reaches the module that defines it
    assert "callrec.vault._store" in EDGES["callrec.access._calls"]


def test_every_package_is_on_a_floor():
    for module in MODULES:
        _floor(module)


def test_no_import_runs_up_a_floor():
    up = sorted(WHERE[(a, b)] + f": {_package(a)} (floor {_floor(a)}) imports {_package(b)} (floor {_floor(b)})"
                for a, targets in EDGES.items() for b in targets if _floor(b) > _floor(a))
    assert not up, "imports running up a floor:\n" + "\n".join(up)


def test_no_circle_between_modules():
    circles = _circles(EDGES)
    assert not circles, "import circles:\n" + "\n".join(
        " -> ".join(c) + "\n  " + "\n  ".join(WHERE[(a, b)] for a in c for b in sorted(EDGES[a] & set(c)))
        for c in circles)


def test_no_circle_between_packages():
    between: dict[str, set[str]] = defaultdict(set)
    for a, targets in EDGES.items():
        between[_package(a)].update(_package(b) for b in targets if _package(b) != _package(a))
    assert not _circles(between)


def _crossing(module: str, written: str) -> bool:
    """Whether ``module`` importing ``written`` reaches into a private module of another package."""
    parts = written.split(".")
    for i, part in enumerate(parts[1:], 1):
        owner = ".".join(parts[:i])
        if part.startswith("_") and not part.startswith("__"):
            return not (module == owner or module.startswith(owner + "."))
    return False


def test_no_private_module_is_imported_from_another_package():
    crossings = [f"{path.relative_to(ROOT.parent)}:{line}: {written}" for module, path in MODULES.items()
                 for line, written, _ in _imports(path) if _crossing(module, written)]
    assert not crossings, "private modules imported from outside their package:\n" + "\n".join(crossings)


@pytest.mark.parametrize("module, written, bad", [
    ("callrec.cli._remote", "callrec.vault._store.Vault", True),
    ("callrec.daemon._server", "callrec.config._health", True),
    ("callrec.vault.calls._calls", "callrec.vault._store.Vault", False),
    ("callrec.access", "callrec.access._registry.ACTIONS", False),
    ("callrec.cli.init", "callrec.vault.Vault", False),
    ("callrec.__main__", "callrec.cli.main", False),
])
def test_the_private_rule_sees_a_crossing(module, written, bad):
    """The rule can fail: a crossing is found, an import inside the owning package is not."""
    assert _crossing(module, written) is bad

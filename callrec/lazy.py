"""Package faces that load on first use (PEP 562), so that a command imports only what it runs.

A face keeps its ``from callrec.pkg._module import name`` lines, under ``if TYPE_CHECKING:`` (type
checkers, readers and ``tests/test_imports.py`` still see them), and ends with::

    __getattr__ = lazy_face(__name__, __file__)

The first name asked of the face parses those lines once (``ast``, about a millisecond) into a map
name -> module; each name then imports its own module on first use and is kept on the face, so
``callrec calls list`` never loads the capture pipeline's numpy or the ASR engine's Vosk because
the vault or the health package also holds them.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["lazy_face", "face_imports"]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def face_imports(source: str) -> dict[str, tuple[str, str]]:
    """name -> (module, name in that module), from the ``if TYPE_CHECKING:`` imports of a face."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                for alias in stmt.names:
                    found[alias.asname or alias.name] = (stmt.module, alias.name)
    return found


def lazy_face(package: str, file: str) -> Callable[[str], Any]:
    """The module ``__getattr__`` of the face ``package`` whose source is ``file``."""
    where: dict[str, tuple[str, str]] = {}

    def __getattr__(name: str) -> Any:
        if not where:
            where.update(face_imports(Path(file).read_text(encoding="utf-8")))
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = where[name]
        value = getattr(importlib.import_module(module), attr)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

"""The vault owns its tables: no SQL, no connection, no lock and no private vault module outside
``callrec/vault/`` (issue 11). A scan of the package's source, so that it stays true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import callrec

PACKAGE = Path(callrec.__file__).resolve().parent
VAULT = PACKAGE / "vault"

#: Statements in upper case, as this code base writes them; prose in docstrings is lower case.
SQL = re.compile(r"\b(SELECT|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA\s+\w+|"
                 r"CREATE\s+(TABLE|INDEX|TRIGGER)|BEGIN(\s+IMMEDIATE)?\s*$|ROLLBACK|COMMIT)\b")
#: What only the vault may touch on a ``Vault``: its connection, raw queries, transactions, lock.
VAULT_INSIDES = {"conn", "query", "transaction", "_lock", "_conn"}


def _outside_vault() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if VAULT not in p.parents)


def _strings(tree: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _is_private(module: str) -> bool:
    """A private module of the vault or of one of its sub-packages (``callrec.vault.ops._ledger``)."""
    parts = module.split(".")
    return parts[:2] == ["callrec", "vault"] and any(p.startswith("_") for p in parts[2:])


def _private_vault_import(node: ast.AST) -> str | None:
    if isinstance(node, ast.ImportFrom) and node.module:
        if _is_private(node.module):
            return node.module
        if node.module.split(".")[:2] == ["callrec", "vault"]:
            private = [a.name for a in node.names if a.name.startswith("_")]
            return f"{node.module}.{private[0]}" if private else None
    if isinstance(node, ast.Import):
        return next((a.name for a in node.names if _is_private(a.name)), None)
    return None


def _violations(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(root)
    found = [f"{where}:{s.lineno}: SQL {s.value.strip()[:60]!r}" for s in _strings(tree) if SQL.search(s.value)]
    for node in ast.walk(tree):
        private = _private_vault_import(node)
        if private:
            found.append(f"{where}:{node.lineno}: imports {private}")
        if (isinstance(node, ast.Attribute) and node.attr in VAULT_INSIDES
                and "vault" in ast.unparse(node.value).lower()):
            found.append(f"{where}:{node.lineno}: uses {ast.unparse(node)}")
    return found


def test_no_sql_and_no_private_vault_names_outside_the_vault():
    found = [line for path in _outside_vault() for line in _violations(path)]
    assert found == [], "\n".join(["the vault owns its tables: use callrec.vault's public API instead of", *found])


def test_the_scan_sees_what_it_must_refuse(tmp_path):
    """The scan itself catches each kind of breach (else the test above could pass by seeing nothing)."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from callrec.vault.ops._ledger import gaps_in\n"
        "from callrec.vault.people import _cases\n"
        "import callrec.vault._db\n"
        "def f(vault: Vault, ctx):\n"
        "    vault.query(\"SELECT count(*) FROM calls WHERE kind = 'test'\")\n"
        "    ctx.vault.conn.execute(f\"UPDATE calls SET status = 'x' WHERE id IN ({1})\")\n"
        "    with ctx.vault._lock, vault.transaction():\n"
        "        pass\n"
        "    return 'select the calls you need'\n")
    text = "\n".join(_violations(bad, tmp_path))
    for expected in ("imports callrec.vault.ops._ledger", "imports callrec.vault.people._cases", "imports callrec.vault._db",
                     "SQL \"SELECT count(*)", "SQL \"UPDATE calls SET", "uses vault.query", "uses ctx.vault.conn",
                     "uses ctx.vault._lock", "uses vault.transaction"):
        assert expected in text, (expected, text)
    assert "select the calls" not in text

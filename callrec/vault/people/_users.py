"""People and their roles. A person is an OS account name; roles are granted by an admin."""

from __future__ import annotations

import time

from callrec.errors import InvalidState, NotFound, UsageError, did_you_mean
from callrec.vault._schema import ROLES
from callrec.vault._store import Vault

__all__ = ["roles_of", "add_user", "remove_role", "remove_user", "list_users", "has_role"]


def roles_of(vault: Vault, name: str) -> set[str]:
    return {r[0] for r in vault.query("SELECT role FROM user_roles WHERE name = ?", (name,))}


def has_role(vault: Vault, name: str, *roles: str) -> bool:
    return bool(roles_of(vault, name) & set(roles))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}{did_you_mean(role, ROLES)}: use one of {', '.join(ROLES)}")


def add_user(vault: Vault, actor: str, name: str, roles: list[str]) -> None:
    """Grant ``roles`` to ``name`` (creating the person); logged."""
    for role in roles:
        _check_role(role)
    with vault.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO users (name, created_ts) VALUES (?, ?)", (name, time.time()))
        for role in roles:
            conn.execute("INSERT OR IGNORE INTO user_roles (name, role) VALUES (?, ?)", (name, role))
        vault.log(actor, "user.grant", detail={"user": name, "roles": sorted(roles)})


def remove_role(vault: Vault, actor: str, name: str, role: str) -> None:
    _check_role(role)
    if role == "admin" and name == actor:
        raise InvalidState("an admin cannot remove their own admin role: ask another admin")
    with vault.transaction() as conn:
        if conn.execute("DELETE FROM user_roles WHERE name = ? AND role = ?", (name, role)).rowcount == 0:
            raise NotFound(f"user {name} with role {role}")
        vault.log(actor, "user.revoke", detail={"user": name, "roles": [role]})


def remove_user(vault: Vault, actor: str, name: str) -> list[str]:
    """Take every role from ``name`` and remove the person; the roles it held, sorted.

    Logged as one ``user.revoke`` of all those roles (marked ``removed``), so ``callrec verify``
    explains the missing rows like any revoke. Never the last admin, and never oneself: the vault
    would be left with nobody to administer it.
    """
    with vault.transaction() as conn:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
            raise NotFound(f"user {name}")
        roles = sorted(r[0] for r in conn.execute("SELECT role FROM user_roles WHERE name = ?", (name,)))
        if "admin" in roles:
            (others,) = conn.execute("SELECT count(*) FROM user_roles WHERE role = 'admin' AND name != ?",
                                     (name,)).fetchone()
            if not others:
                raise InvalidState(f"{name} is the last admin: grant admin to another person first"
                                   " ('callrec users add NAME --role admin')")
        if name == actor:
            raise InvalidState("an admin cannot remove themselves: ask another admin")
        conn.execute("DELETE FROM user_roles WHERE name = ?", (name,))
        conn.execute("DELETE FROM users WHERE name = ?", (name,))
        vault.log(actor, "user.revoke", detail={"user": name, "roles": roles, "removed": True})
    return roles


def list_users(vault: Vault) -> list[tuple[str, list[str]]]:
    rows = vault.query("SELECT u.name, group_concat(r.role) FROM users u LEFT JOIN user_roles r USING (name) GROUP BY u.name ORDER BY u.name")
    return [(name, sorted(roles.split(",")) if roles else []) for name, roles in rows]

"""Users and their roles, cases, and the numbers of calls and cases (who may see them is the access layer's)."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.vault.people._cases import (
        HOLDING_STATUSES,
        Case,
        attach_call,
        case_call_ids,
        case_numbers,
        close_case,
        decide_case,
        get_case,
        list_cases,
        number_matches,
        open_case,
        require_own_approved,
        still_readable,
    )
    from callrec.vault.people._numbers import (
        CallNumbers,
        add_call_numbers,
        call_numbers,
        number_findings,
        numbers_of_calls,
        write_numbers,
    )
    from callrec.vault.people._users import add_user, has_role, list_users, remove_role, remove_user, roles_of

__all__ = [
    "CallNumbers",
    "Case",
    "HOLDING_STATUSES",
    "add_call_numbers",
    "add_user",
    "attach_call",
    "call_numbers",
    "case_call_ids",
    "case_numbers",
    "close_case",
    "decide_case",
    "get_case",
    "has_role",
    "list_cases",
    "list_users",
    "number_findings",
    "number_matches",
    "numbers_of_calls",
    "open_case",
    "remove_role",
    "remove_user",
    "require_own_approved",
    "roles_of",
    "still_readable",
    "write_numbers",
]

__getattr__ = lazy_face(__name__, __file__)

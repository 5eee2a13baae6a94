"""Case use cases: open, decide, attach, close, show and list — what an approver needs to decide
(the reason, the window, the opener, the attached calls) and nothing of the content."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.access._table import may
from callrec.errors import UsageError
from callrec.numbers import parse_number
from callrec.timefmt import format_ts, parse_time
from callrec.vault import Vault, refuse
from callrec.vault.calls import list_calls
from callrec.vault.log import decision_reasons
from callrec.vault.people import (
    Case,
    attach_call,
    case_call_ids,
    case_numbers,
    close_case,
    decide_case,
    get_case,
    list_cases,
    numbers_of_calls,
    open_case,
)

__all__ = ["CaseCall", "CaseDetail", "CaseList", "CaseView", "case_approve", "case_attach", "case_close", "case_list",
           "case_open", "case_refuse", "case_show"]


@dataclass(frozen=True)
class CaseView:
    id: int
    status: str
    reason: str
    opened_by: str
    opened_at: str
    window_from: str
    window_to: str
    decided_by: str | None
    decided_at: str | None
    closed_at: str | None
    attached: list[int]
    #: The numbers the case is scoped to, for its opener and approvers; ``None`` for anyone else
    #: (an admin sees that a case exists, never whom it is about). Empty: a time-only case.
    numbers: list[str] | None = None
    #: Why the approver refused the case (from the access log); None unless refused.
    decision_reason: str | None = None


@dataclass(frozen=True)
class CaseCall:
    """A call in a case's window (no content): whether it is attached, and when and how long."""
    id: int
    started_at: str
    duration_s: float
    kind: str
    attached: bool
    #: The caller's (incoming) or callee's (outgoing) number, for the opener of the approved case
    #: only; ``None`` otherwise, and for a call whose number is unknown or withheld.
    number: str | None = None


@dataclass(frozen=True)
class CaseDetail:
    case: CaseView
    calls: list[CaseCall]
    #: Calls in the window with no known number (a sound-card line without a matching call-log
    #: row, or withheld): a case scoped by number cannot reach them.
    unknown_number_calls: int = 0


@dataclass(frozen=True)
class CaseList:
    cases: list[CaseView]


def _sees_numbers(vault: Vault, actor: Actor, case: Case) -> bool:
    return case.opened_by == actor.log_name or may(vault, actor, "case.see_numbers")


def _view(vault: Vault, case: Case, actor: Actor) -> CaseView:
    zone = vault.config.zone
    return CaseView(case.id, case.status, case.reason, case.opened_by, format_ts(case.opened_ts, zone),
                    format_ts(case.window_from_ts, zone), format_ts(case.window_to_ts, zone), case.decided_by,
                    format_ts(case.decided_ts, zone), format_ts(case.closed_ts, zone),
                    case_call_ids(vault, case.id),
                    case_numbers(vault, case.id) if _sees_numbers(vault, actor, case) else None,
                    decision_reason=decision_reasons(vault, [case.id]).get(case.id) if case.status == "refused" else None)


def _country_code(vault: Vault) -> str:
    """The country code national numbers are read under: the SIP lines' setting, else Japan's."""
    codes = [line.sip.country_code for line in vault.config.lines if line.sip is not None]
    return codes[0] if codes else "81"


def _visible(vault: Vault, actor: Actor, status: str | None = None) -> list[Case]:
    """Approvers and admins see every case; a reviewer sees the cases they opened."""
    opened_by = None if may(vault, actor, "case.see_all") else actor.log_name
    return list_cases(vault, opened_by, status)


@use_case("case.open")
def case_open(vault: Vault, actor: Actor, *, reason: str, from_iso: str, to_iso: str,
              numbers: list[str] | None = None) -> CaseView:
    zone = vault.config.zone
    scoped = tuple(parse_number(n, _country_code(vault)) for n in numbers or [])
    case_id = open_case(vault, actor.log_name, reason, parse_time(from_iso, zone, "--from"),
                        parse_time(to_iso, zone, "--to", end=True), scoped)
    return _view(vault, get_case(vault, case_id), actor)


@use_case("case.approve")
def case_approve(vault: Vault, actor: Actor, *, case_id: int) -> CaseView:
    decide_case(vault, actor.log_name, case_id, approve=True)
    return _view(vault, get_case(vault, case_id), actor)


@use_case("case.refuse")
def case_refuse(vault: Vault, actor: Actor, *, case_id: int, reason: str) -> CaseView:
    if not reason.strip():
        raise UsageError("refusing a case needs a reason: pass --reason")
    decide_case(vault, actor.log_name, case_id, approve=False, reason=reason)
    return _view(vault, get_case(vault, case_id), actor)


@use_case("case.attach")
def case_attach(vault: Vault, actor: Actor, *, case_id: int, call_id: int) -> CaseView:
    attach_call(vault, actor.log_name, case_id, call_id)
    return _view(vault, get_case(vault, case_id), actor)


@use_case("case.close")
def case_close(vault: Vault, actor: Actor, *, case_id: int) -> CaseView:
    close_case(vault, actor.log_name, case_id, any_case=may(vault, actor, "case.close_any"))
    return _view(vault, get_case(vault, case_id), actor)


@use_case("case.list")
def case_list(vault: Vault, actor: Actor, *, pending: bool = False) -> CaseList:
    return CaseList([_view(vault, c, actor) for c in _visible(vault, actor, "pending" if pending else None)])


def _visible_case(vault: Vault, actor: Actor, case_id: int) -> Case:
    case = next((c for c in _visible(vault, actor) if c.id == case_id), None)
    if case is None:
        refuse(vault, actor.log_name, "case.show", f"case {case_id} is not visible to this account", case_id=case_id)
    return case


def _known_numbers(vault: Vault, calls: list[dict]) -> dict[int, str]:
    """The remote number of each of ``calls`` that has one (unknown and withheld left out)."""
    return {i: n.remote for i, n in numbers_of_calls(vault, [c["id"] for c in calls]).items() if n.remote}


@use_case("case.show")
def case_show(vault: Vault, actor: Actor, *, case_id: int) -> CaseDetail:
    """The case and the calls of its window it reaches (with numbers: only calls of its numbers);
    each call's number only for the opener of the approved case."""
    case = _visible_case(vault, actor, case_id)
    view = _view(vault, case, actor)
    attached = set(view.attached)
    window = list_calls(vault, case.window_from_ts, case.window_to_ts, vault.config.zone)
    known = _known_numbers(vault, window)
    scoped = set(case_numbers(vault, case.id))
    shown = case.status == "approved" and case.opened_by == actor.log_name
    calls = [CaseCall(c["id"], c["started_at"], c["duration_s"], c["kind"], c["id"] in attached,
                      known.get(c["id"]) if shown else None)
             for c in window if not scoped or known.get(c["id"]) in scoped]
    return CaseDetail(view, calls, sum(1 for c in window if c["id"] not in known))

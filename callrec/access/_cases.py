"""Case use cases: open, decide, attach, close, show and list — what an approver needs to decide
(the reason, the window, the opener, the attached calls) and nothing of the content."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.access._table import may
from callrec.errors import UsageError
from callrec.timefmt import format_ts, parse_time
from callrec.vault import (
    Case,
    Vault,
    attach_call,
    case_call_ids,
    close_case,
    decide_case,
    decision_reasons,
    get_case,
    list_calls,
    list_cases,
    open_case,
    refuse,
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


@dataclass(frozen=True)
class CaseDetail:
    case: CaseView
    calls: list[CaseCall]


@dataclass(frozen=True)
class CaseList:
    cases: list[CaseView]


def _view(vault: Vault, case: Case) -> CaseView:
    zone = vault.config.zone
    return CaseView(case.id, case.status, case.reason, case.opened_by, format_ts(case.opened_ts, zone),
                    format_ts(case.window_from_ts, zone), format_ts(case.window_to_ts, zone), case.decided_by,
                    format_ts(case.decided_ts, zone), format_ts(case.closed_ts, zone),
                    case_call_ids(vault, case.id),
                    decision_reasons(vault, [case.id]).get(case.id) if case.status == "refused" else None)


def _visible(vault: Vault, actor: Actor, status: str | None = None) -> list[Case]:
    """Approvers and admins see every case; a reviewer sees the cases they opened."""
    opened_by = None if may(vault, actor, "case.see_all") else actor.log_name
    return list_cases(vault, opened_by, status)


@use_case("case.open")
def case_open(vault: Vault, actor: Actor, *, reason: str, from_iso: str, to_iso: str) -> CaseView:
    zone = vault.config.zone
    case_id = open_case(vault, actor.log_name, reason, parse_time(from_iso, zone, "--from"),
                               parse_time(to_iso, zone, "--to", end=True))
    return _view(vault, get_case(vault, case_id))


@use_case("case.approve")
def case_approve(vault: Vault, actor: Actor, *, case_id: int) -> CaseView:
    decide_case(vault, actor.log_name, case_id, approve=True)
    return _view(vault, get_case(vault, case_id))


@use_case("case.refuse")
def case_refuse(vault: Vault, actor: Actor, *, case_id: int, reason: str) -> CaseView:
    if not reason.strip():
        raise UsageError("refusing a case needs a reason: pass --reason")
    decide_case(vault, actor.log_name, case_id, approve=False, reason=reason)
    return _view(vault, get_case(vault, case_id))


@use_case("case.attach")
def case_attach(vault: Vault, actor: Actor, *, case_id: int, call_id: int) -> CaseView:
    attach_call(vault, actor.log_name, case_id, call_id)
    return _view(vault, get_case(vault, case_id))


@use_case("case.close")
def case_close(vault: Vault, actor: Actor, *, case_id: int) -> CaseView:
    close_case(vault, actor.log_name, case_id, any_case=may(vault, actor, "case.close_any"))
    return _view(vault, get_case(vault, case_id))


@use_case("case.list")
def case_list(vault: Vault, actor: Actor, *, pending: bool = False) -> CaseList:
    return CaseList([_view(vault, c) for c in _visible(vault, actor, "pending" if pending else None)])


@use_case("case.show")
def case_show(vault: Vault, actor: Actor, *, case_id: int) -> CaseDetail:
    case = next((c for c in _visible(vault, actor) if c.id == case_id), None)
    if case is None:
        refuse(vault, actor.log_name, "case.show", f"case {case_id} is not visible to this account", case_id=case_id)
    view = _view(vault, case)
    attached = set(view.attached)
    calls = [CaseCall(c["id"], c["started_at"], c["duration_s"], c["kind"], c["id"] in attached)
             for c in list_calls(vault, case.window_from_ts, case.window_to_ts, vault.config.zone)]
    return CaseDetail(view, calls)

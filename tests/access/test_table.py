"""The role table is the one place roles are checked: refusals are logged, internal actors are
never a person, and every action on the socket has a row."""

from __future__ import annotations

import time

import pytest

from callrec import access
from callrec.access import ACTION_ROLES, ACTIONS, SERVICE, Actor
from callrec.config import load_config
from callrec.errors import AccessDenied
from callrec.vault import SERVICE_ACTOR, Vault
from callrec.vault.log import log_entries
from callrec.vault.people import add_user
from tests.conftest import call_status, record_call, write_config

REASON = "caller asked on 2026-08-05 for their call to be erased"
NEVER_ON_SOCKET = {"init", "run", "replay", "serve", "demo", "rekey", "restore", "backup", "model.import"}


@pytest.fixture
def people(vault):
    for name, roles in (("adm", ["admin"]), ("appr", ["approver"]), ("rev", ["reviewer"]), ("opsy", ["ops"])):
        add_user(vault, SERVICE_ACTOR, name, roles)
    return vault


def _refusals(vault):
    return [(e.actor, e.action) for e in log_entries(vault) if e.outcome == "refused"]


def test_every_socket_action_has_a_row_and_no_state_command_is_an_action():
    assert set(ACTIONS) <= set(ACTION_ROLES)
    assert not NEVER_ON_SOCKET & set(ACTIONS)
    assert {"status", "maintenance.add", "maintenance.list", "model.import"} <= set(ACTION_ROLES)


def test_only_admins_file_deletions_and_only_admins_or_approvers_decide(people):
    call = record_call(people, seconds=1)
    for who in ("rev", "stranger"):
        with pytest.raises(AccessDenied):
            access.delete_request(people, Actor.person(who), call_id=call, reason=REASON)
    access.delete_request(people, Actor.person("adm"), call_id=call, reason=REASON)
    with pytest.raises(AccessDenied):
        access.delete_approve(people, Actor.person("rev"), request_id=1)
    assert _refusals(people) == [("rev", "delete.request"), ("stranger", "delete.request"), ("rev", "delete.approve")]
    assert call_status(people, call) == "sealed"


def test_a_person_without_admin_cannot_run_retention_and_the_refusal_is_logged(people):
    call = record_call(people, seconds=1, started_ts=time.time() - 40 * 86400)
    with pytest.raises(AccessDenied, match="needs the role admin"):
        access.retention_run(people, Actor.person("opsy"))
    assert call_status(people, call) == "sealed"
    assert _refusals(people) == [("opsy", "retention.run")]


def test_an_account_named_service_is_a_person_without_power(tmp_path):
    config = load_config(write_config(tmp_path, "[retention]\nkeep_days = 30\n"))
    people, _ = Vault.initialise(config)
    call = record_call(people, seconds=1, started_ts=time.time() - 40 * 86400)
    impostor = Actor.person("service")
    assert not impostor.internal and impostor.log_name == "service" != SERVICE.log_name
    with pytest.raises(AccessDenied, match="not a callrec user"):
        access.retention_run(people, impostor)
    assert call_status(people, call) == "sealed"
    done = access.retention_run(people, SERVICE)
    assert (done.purged, call_status(people, call)) == (1, "purged")
    assert [e.actor for e in log_entries(people, action="purge")] == [SERVICE_ACTOR]
    people.close()


def test_roles_follow_the_table_for_content(people):
    call = record_call(people, seconds=1)
    for who in ("adm", "appr", "opsy"):
        with pytest.raises(AccessDenied, match="needs the role reviewer"):
            access.play(people, Actor.person(who), call_id=call)
    assert [a for _, a in _refusals(people)] == ["play", "play", "play"]


def test_the_reads_of_an_account_named_service_are_in_the_daily_report(people, config):
    import datetime as dt

    from callrec.health import build_report

    add_user(people, SERVICE_ACTOR, "service", ["reviewer"])
    add_user(people, SERVICE_ACTOR, "appr2", ["approver"])
    call = record_call(people, seconds=1, started_ts=time.time() - 60)
    person = Actor.person("service")
    now = time.time()
    case = access.case_open(people, person, reason="verify advice", from_iso=_iso(now - 3600), to_iso=_iso(now))
    access.case_approve(people, Actor.person("appr2"), case_id=case.id)
    access.case_attach(people, person, case_id=case.id, call_id=call)
    access.transcript(people, person, call_id=call)
    report = build_report(people, config, dt.datetime.fromtimestamp(now, config.zone).date())
    assert {"actor": "service", "case_id": case.id, "action": "transcript.read", "count": 1} in report["access_log"]["reads"]


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(ts))


def test_whoami_names_the_roles_and_exactly_the_actions_the_table_gives_them(people):
    add_user(people, SERVICE_ACTOR, "both", ["reviewer", "ops"])
    for name, roles in (("rev", {"reviewer"}), ("opsy", {"ops"}), ("adm", {"admin"}), ("both", {"reviewer", "ops"})):
        me = access.whoami(people, Actor.person(name))
        assert (me.name, set(me.roles)) == (name, roles)
        assert set(me.actions) == {a for a, allowed in ACTION_ROLES.items() if allowed & roles}
    assert "play" in access.whoami(people, Actor.person("rev")).actions
    assert "play" not in access.whoami(people, Actor.person("opsy")).actions
    assert "case.see_all" in access.whoami(people, Actor.person("adm")).actions
    with pytest.raises(AccessDenied, match="not a callrec user"):
        access.whoami(people, Actor.person("stranger"))
    with pytest.raises(AccessDenied):
        access.whoami(people, SERVICE)
    assert ("stranger", "whoami") in _refusals(people)

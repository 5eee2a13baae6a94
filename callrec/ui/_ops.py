"""The pages that show no content: ops (the day's report, its timeline, the checks now), the
maintainer (status, maintenance windows) and the admin (people and roles, deletion requests,
retention, the last backup)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

from flask import Blueprint, render_template, request, url_for
from werkzeug.wrappers import Response

from callrec.ui._daemon import Refused, ask, done, services
from callrec.ui._i18n import gettext
from callrec.ui._timeline import day_timeline

__all__ = ["ops"]

ops = Blueprint("ops", __name__)


def _or_refusal(action: str, **args: object) -> tuple[object | None, str | None]:
    """One part of a page: its result, or why the daemon did not give it."""
    try:
        return ask(action, **args), None
    except Refused as exc:
        return None, exc.args[0]


@ops.get("/ops")
def ops_page() -> str:
    day = request.args.get("date") or dt.datetime.now(services().config.zone).date().isoformat()
    done_report = ask("health.report", date=day)
    report = done_report.report
    calls = ask("calls.list", from_iso=report["window"]["start"], to_iso=report["window"]["end"]).calls
    check, check_refusal = _or_refusal("health.check")
    return render_template("ops.html", day=day, report=report, spans=day_timeline(report, calls), calls=calls,
                           check=check, check_refusal=check_refusal)


@ops.post("/ops/ack")
def ack() -> Response:
    check = request.form.get("check", "")
    return done(url_for("ops.ops_page"), "health.ack",
                gettext("Outages of %(check)s that are over are acknowledged.", check=check), check=check)


@ops.get("/maintainer")
def maintainer() -> str:
    status, status_refusal = _or_refusal("status")
    windows = ask("maintenance.list").windows
    return render_template("maintainer.html", status=dataclasses.asdict(status) if status else None,
                           status_refusal=status_refusal, windows=windows, now=time.time())


@ops.post("/maintainer/windows/<int:window_id>/end")
def end_window(window_id: int) -> Response:
    return done(url_for("ops.maintainer"), "maintenance.end",
                gettext("Maintenance window %(id)s ended: a gap from now on is an outage again.", id=window_id),
                window_id=window_id)


@ops.post("/maintainer/windows/<int:window_id>/cancel")
def cancel_window(window_id: int) -> Response:
    return done(url_for("ops.maintainer"), "maintenance.cancel",
                gettext("Maintenance window %(id)s cancelled.", id=window_id), window_id=window_id)


@ops.post("/maintainer/announce")
def announce() -> Response:
    form = request.form
    return done(url_for("ops.maintainer"), "maintenance.add",
                gettext("Maintenance window announced: gaps inside it are warnings, not outages."),
                from_iso=form.get("from", ""), to_iso=form.get("to", ""), reason=form.get("reason", ""))


@ops.get("/admin")
def admin() -> str:
    users = ask("users.list").users
    deletions, deletions_refusal = _or_refusal("delete.list")
    retention, retention_refusal = _or_refusal("retention.run", dry_run=True)
    backups, backup_refusal = _or_refusal("log.show", from_iso="-31d")
    last_backup = next((e for e in reversed(backups.entries) if e.action == "backup"), None) if backups else None
    return render_template("admin.html", users=users, deletions=deletions.requests if deletions else [],
                           deletions_refusal=deletions_refusal, retention=retention,
                           retention_refusal=retention_refusal, last_backup=last_backup,
                           backup_refusal=backup_refusal)


@ops.post("/admin/users/add")
def add_user() -> Response:
    name, role = request.form.get("name", ""), request.form.get("role", "")
    return done(url_for("ops.admin"), "users.add", gettext("%(name)s now has the role %(role)s.", name=name, role=role),
                name=name, roles=[role], allow_unknown=False)


@ops.post("/admin/users/revoke")
def revoke_user() -> Response:
    name, role = request.form.get("name", ""), request.form.get("role", "")
    return done(url_for("ops.admin"), "users.revoke", gettext("%(name)s no longer has the role %(role)s.", name=name,
                                                                 role=role), name=name, role=role)

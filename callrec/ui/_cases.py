"""The reviewer's and the approver's pages: cases, their calls, playing one in the browser with its
transcript following the audio, exporting a case into a folder (written by this process, as this
account), and deciding pending cases."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from callrec.access import export_target, make_private_dir, write_into
from callrec.errors import CallrecError
from callrec.evidence import render_lines
from callrec.ui._daemon import Refused, ask, done, services
from callrec.ui._i18n import gettext
from callrec.ui._media import Playback

__all__ = ["cases"]

cases = Blueprint("cases", __name__)


@cases.get("/reviewer")
def reviewer() -> str:
    return render_template("reviewer.html", cases=ask("case.list").cases)


@cases.post("/reviewer/open")
def open_case() -> Response:
    form = request.form
    numbers = [n.strip() for n in re.split(r"[,\n]", form.get("numbers", "")) if n.strip()]
    try:
        case = ask("case.open", reason=form.get("reason", ""), from_iso=form.get("from", ""), to_iso=form.get("to", ""),
                   numbers=numbers)
    except Refused as exc:
        flash(exc.args[0], "refused")
        return redirect(url_for("cases.reviewer"), 303)
    flash(gettext("Case %(id)s opened: an approver must approve it before its calls can be played.", id=case.id), "ok")
    return redirect(url_for("cases.case", case_id=case.id), 303)


@cases.get("/cases/<int:case_id>")
def case(case_id: int) -> str:
    return render_template("case.html", detail=ask("case.show", case_id=case_id))


@cases.post("/cases/<int:case_id>/attach")
def attach(case_id: int) -> Response:
    call_id = request.form.get("call_id", type=int)
    if call_id is None:
        abort(400)
    return done(url_for("cases.case", case_id=case_id), "case.attach",
                gettext("Call %(call)s attached.", call=call_id), case_id=case_id, call_id=call_id)


@cases.post("/cases/<int:case_id>/close")
def close(case_id: int) -> Response:
    return done(url_for("cases.case", case_id=case_id), "case.close",
                gettext("Case closed: its calls are no longer on legal hold."), case_id=case_id)


@cases.post("/cases/<int:case_id>/calls/<int:call_id>/play")
def play(case_id: int, call_id: int) -> Response:
    """The read is logged by the daemon before the audio comes back; it is then held here, in
    memory, for the player page to fetch."""
    try:
        audio = ask("play", call_id=call_id, case_id=case_id, follow=True)
    except Refused as exc:
        flash(exc.args[0], "refused")
        return redirect(url_for("cases.case", case_id=case_id), 303)
    lines = [{"start": li.start_s, "end": li.end_s, "speaker": li.speaker or "", "words": li.words}
             for li in audio.lines]
    key = services().media.put(Playback(audio.call_id, audio.case_id, audio.flac, audio.pcm_sha256, lines))
    return redirect(url_for("cases.player", key=key), 303)


@cases.get("/play/<key>")
def player(key: str) -> str:
    playback = services().media.get(key)
    if playback is None:
        abort(404)
    return render_template("play.html", playback=playback, key=key, lines=render_lines(playback.lines))


@cases.get("/media/<key>")
def media(key: str) -> Any:
    playback = services().media.get(key)
    if playback is None:
        abort(404)
    return send_file(io.BytesIO(playback.flac), mimetype="audio/flac", conditional=True, etag=False,
                     max_age=0)


@cases.post("/cases/<int:case_id>/export")
def export(case_id: int) -> Response:
    """Like ``callrec case export ID --out DIR``: the folder is checked first, then the package the
    daemon built and signed is written here, as this account (folder 0700, files 0600)."""
    folder = request.form.get("folder", "").strip()
    try:
        if not folder:
            raise Refused(gettext("Choose a folder to export into."), 2)
        target = export_target(folder, services().config)
        package = ask("export", case_id=case_id, format=request.form.get("format", "flac"))
        make_private_dir(target)
        for f in package.files:
            write_into(target, f.name, f.data)
    except (Refused, CallrecError, OSError) as exc:
        flash(exc.args[0] if isinstance(exc, Refused) else str(exc), "refused")
        return redirect(url_for("cases.case", case_id=case_id), 303)
    flash(gettext("Exported %(n)s files to %(dir)s. Check it with: %(command)s", n=len(package.files), dir=target,
                  command=f"callrec evidence verify {target} --key-fingerprint {package.key_fingerprint}"), "ok")
    return redirect(url_for("cases.case", case_id=case_id), 303)


@cases.get("/approver")
def approver() -> str:
    pending = ask("case.list", pending=True).cases
    try:
        entries, log_refusal = ask("log.show", from_iso="-7d").entries[-200:], None
    except Refused as exc:
        entries, log_refusal = [], exc.args[0]
    return render_template("approver.html", cases=pending, entries=entries[::-1], log_refusal=log_refusal)


@cases.post("/cases/<int:case_id>/approve")
def approve(case_id: int) -> Response:
    return done(url_for("cases.approver"), "case.approve", gettext("Case %(id)s approved.", id=case_id),
                case_id=case_id)


@cases.post("/cases/<int:case_id>/refuse")
def refuse(case_id: int) -> Response:
    return done(url_for("cases.approver"), "case.refuse", gettext("Case %(id)s refused.", id=case_id), case_id=case_id,
                reason=request.form.get("reason", ""))

"""A real vault with calls inside and outside one approved case, exported through the CLI."""

from __future__ import annotations

import time

import pytest

from callrec.config import load_config
from callrec.errors import AccessDenied
from callrec.identity import current_account
from callrec.vault import Vault
from callrec.vault.calls import _content, add_transcript
from callrec.vault.people import _cases, add_user
from tests.conftest import record_call, run_cli, write_config

#: Text, actor and reason of the call and case outside the exported case: none may appear in it.
OUTSIDE_TEXT = "よそのつうわのひみつ"
OUTSIDE_ACTOR = "otherreviewer"
OUTSIDE_REASON = "unrelated-case-reason"


def _words(texts: list[str], offset: float, confs: list[float]) -> list[dict]:
    return [{"word": w, "start": offset + i * 0.7, "end": offset + i * 0.7 + 0.6, "conf": c}
            for i, (w, c) in enumerate(zip(texts, confs, strict=True))]


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """(config file, package directory, key fingerprint, case call ids, outside call id)."""
    base = tmp_path_factory.mktemp("evidence")
    config_file = write_config(base, '[capture]\nchannels = 2\nchannel_roles = ["caller", "staff"]\n')
    config = load_config(config_file)
    me = current_account()
    vault, _ = Vault.initialise(config)
    add_user(vault, "root", me, ["reviewer", "admin"])
    add_user(vault, "root", OUTSIDE_ACTOR, ["reviewer"])
    add_user(vault, "root", "appr", ["approver"])
    now = time.time()
    inside = [record_call(vault, seconds=6, started_ts=now - 5000 + i * 600, seed=i, channels=2) for i in range(2)]
    outside = record_call(vault, seconds=2, started_ts=now - 4000, seed=7, channels=2)
    for call in inside:
        add_transcript(vault, call, 0, "vosk", "vosk-model-small-ja-0.22", "a" * 64,
                       _words(["もしもし", "熱", "が"], 0.2, [0.95, 0.3, 0.9]), "もしもし熱が")
        add_transcript(vault, call, 1, "vosk", "vosk-model-small-ja-0.22", "a" * 64,
                       _words(["はい", "保健所", "です"], 3.1, [0.9, 0.99, 0.4]), "はい保健所です")
    add_transcript(vault, outside, 0, "vosk", "m", "a" * 64, _words([OUTSIDE_TEXT], 0.1, [0.9]), OUTSIDE_TEXT)
    other = _cases.open_case(vault, OUTSIDE_ACTOR, OUTSIDE_REASON, now - 6000, now)
    _cases.decide_case(vault, "appr", other, approve=True)
    _cases.attach_call(vault, OUTSIDE_ACTOR, other, outside)
    _content.read_transcripts(vault, OUTSIDE_ACTOR, outside, other)
    case = _cases.open_case(vault, me, "death at home: check the advice given", now - 6000, now)
    _cases.decide_case(vault, "appr", case, approve=True)
    for call in inside:
        _cases.attach_call(vault, me, case, call)
    for stranger_read in (lambda: _content.read_audio(vault, OUTSIDE_ACTOR, inside[0], case),
                          lambda: _content.read_transcripts(vault, "nobodyatall", inside[1], case)):
        with pytest.raises(AccessDenied):  # refused attempts naming the case: never in its package
            stranger_read()
    vault.checkpoint()
    vault.close()
    out = base / "package"
    result = run_cli(config_file, "case", "export", str(case), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    shown = run_cli(config_file, "key", "show")
    fingerprint = shown.stdout.split()[-1]
    return config_file, out, fingerprint, inside, outside

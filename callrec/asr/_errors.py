"""ASR and model errors (exit code 6). One line each, naming the thing and what to do."""

from __future__ import annotations

from callrec.errors import AsrError

__all__ = [
    "ModelSourceMissing",
    "ModelNotAVoskModel",
    "ModelHashMismatch",
    "ModelBadName",
    "ModelExists",
    "ModelNotInstalled",
    "ModelDamaged",
    "ModelLoadFailed",
    "AudioUnreadable",
]


class ModelSourceMissing(AsrError):
    """model source {0} does not exist: give the path of a model .zip or an unpacked model folder"""


class ModelNotAVoskModel(AsrError):
    """{0} is not a Vosk model ({1}): import the unpacked model folder or the model's original .zip"""


class ModelHashMismatch(AsrError):
    """{0} has SHA-256 {1}, not the expected {2}: the copy is damaged or not the model you meant; fetch it again"""


class ModelBadName(AsrError):
    """model name {0!r} is not usable: use letters, digits, '.', '_' and '-' only (--name NAME)"""


class ModelExists(AsrError):
    """model {0} is already installed in {1}: choose another --name"""


class ModelNotInstalled(AsrError):
    """model {0} is not installed in {1}: see 'callrec model list'"""


class ModelDamaged(AsrError):
    """model {0} in {1} is damaged ({2}): import it again with 'callrec model import'"""


class ModelLoadFailed(AsrError):
    """model {0} in {1} could not be loaded by Vosk: import it again with 'callrec model import'"""


class AudioUnreadable(AsrError):
    """the sealed audio of call {0} cannot be decoded ({1}): run 'callrec verify'"""

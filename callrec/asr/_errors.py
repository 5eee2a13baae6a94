"""ASR and model errors (exit code 6). One line each, naming the thing and what to do."""

from __future__ import annotations

from callrec.errors import AsrError

__all__ = [
    "ModelSourceMissing",
    "ModelNotAVoskModel",
    "ModelHashMismatch",
    "ModelHashDiffers",
    "ModelUnsafe",
    "ModelTooBig",
    "ModelNoSpace",
    "ModelLanguageUnknown",
    "ModelLanguageMismatch",
    "ModelNeedsMemory",
    "ModelActive",
    "ModelBadName",
    "ModelExists",
    "ModelNotInstalled",
    "ModelDamaged",
    "ModelLoadFailed",
    "AudioUnreadable",
    "EvalSetEmpty",
    "EvalFileUnreadable",
]


class ModelSourceMissing(AsrError):
    """model source {0} does not exist: give the path of a model .zip or an unpacked model folder"""


class ModelNotAVoskModel(AsrError):
    """{0} is not a Vosk model ({1}): import the unpacked model folder or the model's original .zip"""


class ModelHashMismatch(AsrError):
    """{0} does not have the expected SHA-256 {1}: the copy is damaged or not the model you meant; fetch it again"""


class ModelHashDiffers(ModelHashMismatch):
    """{0} has SHA-256 {2}, not the expected {1}: the copy is damaged or not the model you meant; fetch it again"""


class ModelUnsafe(AsrError):
    """{0} is refused: {1}; import the model's original folder or .zip"""


class ModelTooBig(AsrError):
    """{0} would unpack to {1:.1f} GiB, more than [asr] max_model_gib = {2}: check the file, or raise the limit if the model really is that big"""


class ModelNoSpace(AsrError):
    """not enough free disk in {0} for the model ({1} MB needed, {2} MB free): free disk space first"""


class ModelLanguageUnknown(AsrError):
    """the language of model {0} is not in its name: give it with --language (e.g. --language ja)"""


class ModelLanguageMismatch(AsrError):
    """model {0} is for language {1!r} but [asr] language is {2!r}: use a {2!r} model, or --force to use it anyway"""


class ModelNeedsMemory(AsrError):
    """model {0} needs about {1} MB of memory but only {2} MB are available: use a smaller model or free memory (--force to activate anyway)"""


class ModelActive(AsrError):
    """model {0} is the active model: activate another one before removing it"""


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


class EvalSetEmpty(AsrError):
    """{0} holds no audio file with a reference text beside it: put x.wav (or x.flac) and x.txt in it"""


class EvalFileUnreadable(AsrError):
    """{0} cannot be read ({1}): give WAV or FLAC audio and UTF-8 reference texts"""

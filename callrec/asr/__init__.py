"""Offline transcription with Vosk: the engine, installed models, the post-call queue and worker,
Japanese text handling, and transcript export formats."""

from callrec.asr._engine import ENGINE_NAME, Engine, load_model
from callrec.asr._errors import (
    AudioUnreadable,
    ModelBadName,
    ModelDamaged,
    ModelExists,
    ModelHashMismatch,
    ModelLoadFailed,
    ModelNotAVoskModel,
    ModelNotInstalled,
    ModelSourceMissing,
)
from callrec.asr._export import Utterance, to_json, to_text, to_webvtt, utterances
from callrec.asr._japanese import cer, display_text, edit_distance, normalise_for_cer
from callrec.asr._models import (
    ModelInfo,
    activate_model,
    active_model,
    check_layout,
    import_model,
    installed_names,
    model_hash,
    model_info,
    model_sample_rate,
)
from callrec.asr._queue import QueueSummary, queue_summary, requeue
from callrec.asr._search import Hit, find_phrase
from callrec.asr._worker import TranscriptionWorker

__all__ = [
    "AudioUnreadable",
    "ENGINE_NAME",
    "Engine",
    "Hit",
    "ModelBadName",
    "ModelDamaged",
    "ModelExists",
    "ModelHashMismatch",
    "ModelInfo",
    "ModelLoadFailed",
    "ModelNotAVoskModel",
    "ModelNotInstalled",
    "ModelSourceMissing",
    "QueueSummary",
    "TranscriptionWorker",
    "Utterance",
    "activate_model",
    "active_model",
    "cer",
    "check_layout",
    "display_text",
    "edit_distance",
    "find_phrase",
    "import_model",
    "installed_names",
    "load_model",
    "model_hash",
    "model_info",
    "model_sample_rate",
    "normalise_for_cer",
    "queue_summary",
    "requeue",
    "to_json",
    "to_text",
    "to_webvtt",
    "utterances",
]

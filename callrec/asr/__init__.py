"""Offline transcription with Vosk: the engine, installed models, the post-call queue and worker,
text per language, transcript lines and export formats, quality numbers, and model evaluation."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.asr._engine import ENGINE_NAME, Engine, load_model
    from callrec.asr._errors import (
        AudioUnreadable,
        EvalFileUnreadable,
        EvalSetEmpty,
        ModelActive,
        ModelBadName,
        ModelDamaged,
        ModelExists,
        ModelHashDiffers,
        ModelHashMismatch,
        ModelLanguageMismatch,
        ModelLanguageUnknown,
        ModelLoadFailed,
        ModelNeedsMemory,
        ModelNoSpace,
        ModelNotAVoskModel,
        ModelNotInstalled,
        ModelSourceMissing,
        ModelTooBig,
        ModelUnsafe,
    )
    from callrec.asr._eval import EvalFile, EvalResult, evaluate, reference_words
    from callrec.asr._export import configured_lines, to_json, to_text, to_webvtt, transcript_language
    from callrec.asr._japanese import cer, display_text, edit_distance, normalise_for_cer
    from callrec.asr._lines import DEFAULT_ROLES, Line, Word, join_words, line_text, transcript_lines
    from callrec.asr._models import (
        ModelInfo,
        activate_model,
        active_model,
        check_layout,
        import_model,
        infer_language,
        installed_names,
        language_problem,
        memory_needed,
        model_hash,
        model_info,
        model_sample_rate,
        remove_model,
    )
    from callrec.asr._quality import (
        CallQuality,
        call_quality,
        count_transcripts,
        quality_by_call,
        transcript_counts,
        window_quality,
    )
    from callrec.asr._search import Hit, find_phrase
    from callrec.asr._worker import TranscriptionWorker
    from callrec.vault.calls import QueueSummary, queue_summary, requeue

__all__ = [
    "AudioUnreadable",
    "CallQuality",
    "DEFAULT_ROLES",
    "ENGINE_NAME",
    "Engine",
    "EvalFile",
    "EvalFileUnreadable",
    "EvalResult",
    "EvalSetEmpty",
    "Hit",
    "Line",
    "ModelActive",
    "ModelBadName",
    "ModelDamaged",
    "ModelExists",
    "ModelHashDiffers",
    "ModelHashMismatch",
    "ModelInfo",
    "ModelLanguageMismatch",
    "ModelLanguageUnknown",
    "ModelLoadFailed",
    "ModelNeedsMemory",
    "ModelNoSpace",
    "ModelNotAVoskModel",
    "ModelNotInstalled",
    "ModelSourceMissing",
    "ModelTooBig",
    "ModelUnsafe",
    "QueueSummary",
    "TranscriptionWorker",
    "Word",
    "activate_model",
    "active_model",
    "call_quality",
    "count_transcripts",
    "transcript_counts",
    "cer",
    "check_layout",
    "display_text",
    "edit_distance",
    "evaluate",
    "find_phrase",
    "import_model",
    "infer_language",
    "installed_names",
    "join_words",
    "language_problem",
    "line_text",
    "load_model",
    "memory_needed",
    "model_hash",
    "model_info",
    "model_sample_rate",
    "normalise_for_cer",
    "quality_by_call",
    "queue_summary",
    "reference_words",
    "remove_model",
    "requeue",
    "configured_lines",
    "to_json",
    "to_text",
    "to_webvtt",
    "transcript_language",
    "transcript_lines",
    "window_quality",
]

__getattr__ = lazy_face(__name__, __file__)

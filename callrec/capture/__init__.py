"""Capture: sources as plugins (sound card, replayed file, the SIP tap; ``_kinds.py``), the
segmenter with its tone and DTMF detectors, and the writers that turn a line's feed into sealed
calls and a coverage ledger: :class:`Pipeline` for continuous audio, :class:`CallsPipeline` for a
signalling source's call events."""

from callrec.capture._calls_pipeline import CallsPipeline, SignallingSource
from callrec.capture._events import CallAudio, CallEnd, CallEvent, CallStart, TapFinding, TapGap
from callrec.capture._feed import Block, Dropped, End, FeedQueue, Lost, Restored
from callrec.capture._kinds import SOURCE_KINDS, open_line_pipeline, open_line_source
from callrec.capture._pipeline import CaptureBusy, Pipeline, ReplayResume
from callrec.capture._segmenter import CallSink, CallSummary, Segmenter
from callrec.capture._sources import (
    BLOCK_S,
    BadFeedFile,
    DeviceNotFound,
    DeviceSource,
    DeviceUnusable,
    FileSource,
    Source,
)

__all__ = [
    "CallsPipeline",
    "SOURCE_KINDS",
    "SignallingSource",
    "open_line_pipeline",
    "open_line_source",
    "TapGap",
    "TapFinding",
    "CallStart",
    "CallEvent",
    "CallEnd",
    "CallAudio",
    "BLOCK_S",
    "BadFeedFile",
    "Block",
    "CallSink",
    "CaptureBusy",
    "CallSummary",
    "DeviceNotFound",
    "DeviceSource",
    "DeviceUnusable",
    "Dropped",
    "End",
    "FeedQueue",
    "FileSource",
    "Lost",
    "Pipeline",
    "ReplayResume",
    "Restored",
    "Segmenter",
    "Source",
]

"""Capture: sources (sound card, replayed file), the segmenter with its tone and DTMF detectors,
and the writer that turns the line feed into sealed calls and a coverage ledger."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.capture._analysis import BUSY_HZ, DTMF_HIGH, DTMF_KEYS, DTMF_LOW
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
    from callrec.lazy import lazy_face

__all__ = [
    "BLOCK_S",
    "BUSY_HZ",
    "BadFeedFile",
    "Block",
    "CallAudio",
    "CallEnd",
    "CallEvent",
    "CallSink",
    "CallStart",
    "CallSummary",
    "CallsPipeline",
    "CaptureBusy",
    "DTMF_HIGH",
    "DTMF_KEYS",
    "DTMF_LOW",
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
    "SOURCE_KINDS",
    "Segmenter",
    "SignallingSource",
    "Source",
    "TapFinding",
    "TapGap",
    "open_line_pipeline",
    "open_line_source",
]

__getattr__ = lazy_face(__name__, __file__)

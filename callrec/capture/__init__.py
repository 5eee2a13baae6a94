"""Capture: sources (sound card, replayed file), the segmenter with its tone and DTMF detectors,
and the writer that turns the line feed into sealed calls and a coverage ledger."""

from callrec.capture._feed import Block, Dropped, End, FeedQueue, Lost, Restored
from callrec.capture._pipeline import CaptureBusy, Pipeline, ReplayResume
from callrec.capture._segmenter import OWN_LEVEL_DB, QUIET_HOLD_S, CallSink, CallSummary, Segmenter
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
    "OWN_LEVEL_DB",
    "Pipeline",
    "QUIET_HOLD_S",
    "ReplayResume",
    "Restored",
    "Segmenter",
    "Source",
]

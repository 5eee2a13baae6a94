"""The writer: one thread that takes the feed off the queue and turns it into sealed calls.

It runs the segmenter, appends call audio to the vault and commits at least every
``FLUSH_S`` (DESIGN.md invariant 1) — or, replaying a file as fast as possible, per
``REPLAY_COMMIT_BYTES`` of call audio (a killed replay is run again) — keeps the capture
session's heartbeat, and turns line events into gaps in the coverage ledger: ``overflow`` (queue
full), ``device_lost`` (closed when audio returns) and ``flatline`` (digital zeros or a constant
for ``flatline_s``, closed when the line moves again). A gap is closed only once its cause has stayed
away for ``[health] gap_merge_s``: a burst of overflow, a flapping device or line is one outage, one
gap row, one ``gap.open``/``gap.close`` pair and one journal warning, not one per block.
``callrec run`` and ``callrec replay`` run exactly this, differing only in the source and its clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from callrec.capture._feed import Block, Dropped, End, Event, FeedQueue, Lost, Restored
from callrec.capture._segmenter import CallSummary, Segmenter
from callrec.capture._sources import Source
from callrec.capture._writer import WriterThread
from callrec.config import DEFAULT_LINE, Config
from callrec.errors import CaptureError
from callrec.lockfile import try_lock
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder
from callrec.vault.ops import close_gap, close_session, heartbeat, open_gap, open_session

__all__ = ["Pipeline", "CaptureBusy", "ReplayResume"]

log = logging.getLogger(__name__)

#: Oldest uncommitted call audio is committed once it is this old (wall clock) ...
FLUSH_S = 0.5
#: ... or once this much call audio is waiting (a backlog after a stall).
FLUSH_AUDIO_S = 10.0
#: A re-readable source (a file replayed as fast as possible) commits per this much call audio
#: instead, and never by the clock: the number of commits follows the feed (a seal per call, one
#: more per 4 MiB, ≈ 4.4 minutes of 8 kHz mono), not the machine's speed. A crash loses at most
#: that much of the call in progress, which re-running the replay records again.
REPLAY_COMMIT_BYTES = 4 * 1024 * 1024
_POLL_S = 0.2
#: A flatline is judged on pieces of at most this much audio.
_FLAT_PIECE_S = 1.0
#: Two starts this close are the same call found again (a re-run finds it on the same frame).
_SAME_START_S = 0.001
_GAP_WORDS = {"overflow": "queue overflow", "device_lost": "device loss", "flatline": "flat input"}


@dataclass(frozen=True)
class ReplayResume:
    """What a killed replay of the same feed left, for its re-run. The segmenter finds the same
    calls on the same frames again: those the killed run sealed are not recorded twice, and one it
    left recording is carried on (the frames it holds are not appended again)."""

    sealed_starts: tuple[float, ...] = ()
    #: started_ts → id of each call left in ``recording``.
    unfinished: dict[float, int] = field(default_factory=dict)


class CaptureBusy(CaptureError):
    """another capture is writing into this vault (lock {0} is held): stop 'callrec run' first"""


class Pipeline(WriterThread):
    def __init__(self, config: Config, vault: Vault, source: Source,
                 on_sealed: Callable[[int], None] | None = None, *, guest_ok: bool = False,
                 resume: ReplayResume | None = None, line: str = DEFAULT_LINE) -> None:
        """``guest_ok``: when the live daemon holds the capture lock, run anyway as a guest
        (``callrec replay`` ingesting a feed recorded during an outage) without recovering its
        unfinished call or touching its capture session; otherwise that is :class:`CaptureBusy`.
        ``resume``: this re-runs a killed replay of the same feed (see :class:`ReplayResume`).
        ``line``: the line recorded (its ledger, its calls, its capture lock)."""
        self.config = config
        self.line = line
        self.guest_ok = guest_ok
        self.resume = resume or ReplayResume()
        #: Calls found again that the killed run had sealed (not recorded twice).
        self.skipped = 0
        #: Unfinished calls taken over from the killed run, and the frames each already holds.
        self._held: dict[int, int] = {}
        self._skipping = False
        self._skip_frames = 0
        self.vault = vault
        self.source = source
        self.on_sealed = on_sealed or (lambda call_id: None)
        capture = config.capture
        self.feed = FeedQueue(max(2, round(capture.queue_s / source.block_s)))
        self.recorder = CallRecorder(vault)
        self.segmenter = Segmenter(capture, source.sample_rate, source.channels, sink=self)
        #: Seconds from a block reaching this process to the commit that made it durable.
        self.commit_latencies: deque[float] = deque(maxlen=100_000)
        #: Calls sealed by this pipeline (recovered ones included), oldest first.
        self.sealed: list[int] = []
        self.frames_in = 0
        self.last_progress = time.monotonic()
        self.started = threading.Event()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session: int | None = None
        self._lock_file = None
        self._call_id: int | None = None
        self._block_received = 0.0
        self._block_taken = 0.0
        #: (received, taken) of the oldest uncommitted call audio: its age for the commit decision
        #: counts from when this writer took it (replay reads ahead, so a block read long ago is not
        #: urgent); the frame-to-commit latency reported counts from when it reached the process.
        self._oldest_unflushed: tuple[float, float] | None = None
        self._unflushed_frames = 0
        self._last_heartbeat = 0.0
        self._flat_since: float | None = None
        self._open_gaps: dict[str, int] = {}
        #: Open gaps whose cause went away (cause → end): closed once it stays away gap_merge_s.
        self._closing: dict[str, float] = {}
        self._gap_starts: dict[str, float] = {}
        #: For the status file: end of the last block (its level: :attr:`input_dbfs`).
        self.last_block_ts: float | None = None
        self._last_frames: np.ndarray | None = None

    # -- running -------------------------------------------------------------------------------

    @property
    def input_dbfs(self) -> float | None:
        """The last block's level (dBFS, RMS), worked out when the status file asks, not per block."""
        frames = self._last_frames
        if frames is None or not len(frames):
            return None
        rms = float(np.sqrt(np.mean(np.square(frames, dtype=np.float64))))
        return round(20 * np.log10(max(rms, 1.0) / 32768.0), 1)

    def line_state(self) -> dict:
        """What the status file says about the line now (no content: times, a level, a count)."""
        state = ("device_lost" if self._is_open("device_lost") else "flatline" if self._is_open("flatline")
                 else "capturing" if self.started.is_set() else "starting")
        return {"source": self.source.name, "device_state": state, "last_frame": self.last_block_ts,
                "input_dbfs": self.input_dbfs, "queue_depth": self.feed.depth, "queue_capacity": self.feed.capacity}

    def run(self) -> None:
        """The writer loop, in the calling thread, until the feed ends or :meth:`stop`."""
        self._lock_file = _capture_lock(self.config, self.line)
        if self._lock_file is None and not self.guest_ok:
            raise CaptureBusy(_lock_path(self.config, self.line))
        for call_id in self.resume.unfinished.values():
            self._held[call_id] = self.recorder.resume(call_id)
        if self._lock_file is None:
            log.warning("the capture daemon is running: replaying as a guest, its session stays as it is")
            self._session = open_session(self.vault, self.source.name, self.source.now(), guest=True, line=self.line)
        else:
            for call_id in self.recorder.recover_interrupted(self.line):
                log.warning("call %d was left unfinished by a crash: sealed as interrupted", call_id)
                self._sealed(call_id)
            self._session = open_session(self.vault, self.source.name, self.source.now(), line=self.line)
        self._last_heartbeat = time.monotonic()
        self.source.start(self.feed)
        self.started.set()
        reason = "stopped"
        try:
            while not self._stop.is_set():
                event = self.feed.get(_POLL_S)
                self.last_progress = time.monotonic()
                if isinstance(event, End):
                    reason = "end_of_feed"
                    break
                if event is not None:
                    self._handle(event)
                elif not self.source.rereadable:
                    self._settle(self.source.now())
                self._maybe_flush()
                self._maybe_heartbeat()
        finally:
            self.source.stop()
            self._drain()
            self._finish(reason)
        failed = getattr(self.source, "error", None)
        if failed is not None:
            raise failed

    def _drain(self) -> None:
        """Frames already captured when we were told to stop still belong to the call."""
        while (event := self.feed.get_nowait()) is not None:
            if not isinstance(event, End):
                self._handle(event)

    def _finish(self, reason: str) -> None:
        self.segmenter.finish(reason)
        for call_id in list(self._held):  # the re-run did not find it again: sealed as it was left
            self._held.pop(call_id)
            self.recorder.seal(call_id, status="interrupted")
            self._sealed(call_id)
        now = self.source.now()
        for cause, gap_id in self._open_gaps.items():
            close_gap(self.vault, gap_id, self._closing.get(cause, now))
        self._open_gaps.clear()
        self._closing.clear()
        if self._session is not None:
            close_session(self.vault, self._session, now, "stopped")
        if self._lock_file is not None:
            self._lock_file.close()

    # -- events --------------------------------------------------------------------------------

    def _handle(self, event: Event) -> None:
        if isinstance(event, Block):
            self._block(event)
        elif isinstance(event, Dropped):
            self._settle(event.start_ts)
            if self._open_gap("overflow", event.start_ts, "queue full"):
                log.warning("capture queue overflow: audio is being dropped")
            self._close_gap("overflow", event.end_ts)
        elif isinstance(event, Lost):
            self._settle(event.ts)
            self.segmenter.finish("device_lost")
            self._close_gap("flatline", event.ts)
            if self._open_gap("device_lost", event.ts, event.detail):
                log.error("capture device lost (%s)", event.detail)
        elif isinstance(event, Restored):
            log.warning("capture device back")
            self._close_gap("device_lost", event.ts)

    def _block(self, block: Block) -> None:
        self._settle(block.ts)
        self.frames_in += len(block.frames)
        self.last_block_ts = block.end_ts
        self._last_frames = block.frames
        self._check_flatline(block)
        self._block_received = block.received
        self._block_taken = time.monotonic()
        self.segmenter.process(block.frames, block.ts)

    def _check_flatline(self, block: Block) -> None:
        """Per second of audio at most (a replayed block holds ten): where a flatline starts and
        ends does not depend on how the source cuts its blocks."""
        frames = block.frames
        n = len(frames)
        if not n:
            return
        step = min(n, round(block.rate * _FLAT_PIECE_S))
        whole = n // step * step
        pieces = frames[:whole].reshape(n // step, -1)
        flat = (pieces.min(axis=1) == pieces.max(axis=1)).tolist()
        if whole < n:
            flat.append(bool(frames[whole:].min() == frames[whole:].max()))
        for i, is_flat in enumerate(flat):
            ts = block.ts + i * step / block.rate
            self._flat_piece(ts, block.ts + min(n, (i + 1) * step) / block.rate, is_flat)

    def _flat_piece(self, ts: float, end_ts: float, flat: bool) -> None:
        if flat:
            if self._flat_since is None:
                self._flat_since = ts
            if not self._is_open("flatline") and end_ts - self._flat_since >= self.config.capture.flatline_s:
                if self._open_gap("flatline", self._flat_since, "input constant"):
                    log.error("capture input is flat (constant samples): is the line tap unplugged?")
        else:
            self._flat_since = None
            self._close_gap("flatline", ts)

    def _is_open(self, cause: str) -> bool:
        return cause in self._open_gaps and cause not in self._closing

    def _open_gap(self, cause: str, ts: float, detail: str) -> bool:
        """True when this is a new outage; False when the cause came back within gap_merge_s of its
        gap's end (the same outage: the gap stays open) or its gap is open anyway."""
        end = self._closing.pop(cause, None)
        if end is not None and ts - end <= self.config.health.gap_merge_s:
            return False
        if end is not None:
            self._finish_gap(cause, end)
        if cause in self._open_gaps:
            return False
        self._open_gaps[cause] = open_gap(self.vault, ts, cause, detail, line=self.line)
        self._gap_starts[cause] = ts
        return True

    def _close_gap(self, cause: str, ts: float) -> None:
        """The cause went away at ``ts``: the gap ends there unless it comes back within gap_merge_s."""
        if cause in self._open_gaps:
            self._closing.setdefault(cause, ts)

    def _settle(self, ts: float) -> None:
        """Close the gaps whose cause has stayed away for gap_merge_s by ``ts``."""
        for cause, end in list(self._closing.items()):
            if ts - end > self.config.health.gap_merge_s:
                del self._closing[cause]
                self._finish_gap(cause, end)

    def _finish_gap(self, cause: str, end: float) -> None:
        close_gap(self.vault, self._open_gaps.pop(cause), end)
        lasted = end - self._gap_starts.pop(cause, end)
        log.info("capture %s over after %.1f s", _GAP_WORDS.get(cause, cause), lasted)

    # -- durability ----------------------------------------------------------------------------

    def _maybe_flush(self) -> None:
        if self._oldest_unflushed is None:
            return
        if self.source.rereadable:
            due = self._unflushed_frames * 2 * self.source.channels >= REPLAY_COMMIT_BYTES
        else:
            due = (time.monotonic() - self._oldest_unflushed[1] >= FLUSH_S
                   or self._unflushed_frames >= FLUSH_AUDIO_S * self.source.sample_rate)
        if due:
            self._flush()

    def _flush(self) -> None:
        self.recorder.flush()
        if self._oldest_unflushed is not None:
            self.commit_latencies.append(time.monotonic() - self._oldest_unflushed[0])
        self._oldest_unflushed = None
        self._unflushed_frames = 0

    def _maybe_heartbeat(self) -> None:
        """Every ``heartbeat_s`` of wall clock, the source's time (a replay's virtual clock runs
        hundreds of times faster: a heartbeat per 5 s of it would be a commit each)."""
        if self._session is not None and time.monotonic() - self._last_heartbeat >= self.config.capture.heartbeat_s:
            heartbeat(self.vault, self._session, self.source.now())
            self._last_heartbeat = time.monotonic()

    # -- CallSink: what the segmenter decides ---------------------------------------------------

    def call_started(self, ts: float, frames: np.ndarray) -> None:
        if any(abs(ts - start) < _SAME_START_S for start in self.resume.sealed_starts):
            self._skipping = True
            return
        held = [i for start, i in self.resume.unfinished.items() if abs(ts - start) < _SAME_START_S and i in self._held]
        if held:
            self._call_id = held[0]
            self._skip_frames = self._held.pop(self._call_id)
            log.info("call %d carried on", self._call_id)
        else:
            # A replay's call row goes into its first commit (a re-run records a lost call again).
            self._call_id = self.recorder.start_call(ts, self.source.sample_rate, self.source.channels,
                                                     deferred=self.source.rereadable, line=self.line)
            if not self.source.rereadable:
                log.info("call %d started", self._call_id)
        self.call_audio(frames)

    def call_audio(self, frames: np.ndarray) -> None:
        if self._skipping:
            return
        if self._skip_frames:
            drop = min(self._skip_frames, len(frames))
            frames, self._skip_frames = frames[drop:], self._skip_frames - drop
            if not len(frames):
                return
        self.recorder.append(self._call_id, frames)
        if self._oldest_unflushed is None:
            self._oldest_unflushed = (self._block_received, self._block_taken)
        self._unflushed_frames += len(frames)

    def call_ended(self, ts: float, summary: CallSummary) -> None:
        if self._skipping:
            self._skipping = False
            self.skipped += 1
            return
        started_as, self._call_id = self._call_id, None
        self.recorder.seal(started_as, ts, kind=summary.kind, flags=summary.flags, levels=summary.levels)
        call_id = self.recorder.stored_id(started_as)
        self._oldest_unflushed, self._unflushed_frames = None, 0
        log.info("call %d sealed (%s, ended by %s, flags: %s)", call_id, summary.kind, summary.levels["end"],
                 ",".join(summary.flags) or "none")
        self._sealed(call_id)

    def _sealed(self, call_id: int) -> None:
        self.sealed.append(call_id)
        self.on_sealed(call_id)


def _lock_path(config: Config, line: str = DEFAULT_LINE):
    """One capture of a line at a time: the daemon's pipeline of the line, or a replay into it."""
    suffix = "" if line == DEFAULT_LINE else f".{line}"
    return config.vault_path.with_name(f"{config.vault_path.name}.capture-lock{suffix}")


def _capture_lock(config: Config, line: str = DEFAULT_LINE):
    """The open lock file when this process is now the line's only capture, else None (another
    callrec capture holds it); a lock squatted by another account is an error naming its uid."""
    return try_lock(_lock_path(config, line))

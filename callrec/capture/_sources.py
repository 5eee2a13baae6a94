"""Where the feed comes from, behind one small interface.

A source knows its rate, channel count and clock, and once started it feeds a
:class:`FeedQueue` from a thread of its own until stopped. :class:`DeviceSource` is the sound
card (the daemon); :class:`FileSource` is a recorded feed (``callrec replay``) on a virtual clock
that starts at a given time and advances with the sample offset.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Protocol

import numpy as np
import sounddevice
import soundfile

from callrec.capture._feed import Block, End, FeedQueue, Lost, Restored
from callrec.config import CaptureConfig
from callrec.errors import CaptureError

__all__ = ["Source", "FileSource", "DeviceSource", "BadFeedFile", "DeviceNotFound", "DeviceUnusable", "BLOCK_S"]

#: Audio per block handed to the writer (live, and replays paced at real time).
BLOCK_S = 0.1
#: Replaying as fast as possible, bigger blocks cost less per second of audio (the segmenter's
#: per-block work: 2.7x FLAC-encoding the audio with 1 s blocks, 1.2x with 10 s).
_FAST_BLOCK_S = 10.0
_RATES = (8000, 16000)
#: No callback for this long means the device is gone.
_SILENT_DEVICE_S = 2.0


class BadFeedFile(CaptureError):
    """cannot replay {0}: {1}; give a WAV or FLAC file of 8 or 16 kHz PCM, 1 or 2 channels"""


class FeedReadFailed(CaptureError):
    """feed {0} cannot be read past {1:.1f} s ({2}): the file is truncated or damaged; what came before is recorded"""


class DeviceNotFound(CaptureError):
    """capture device {0!r} not found: set [capture] device to a name or index from 'python3 -m sounddevice'"""


class DeviceUnusable(CaptureError):
    """capture device {0!r} cannot record {1} Hz, {2} channel(s) ({3}): check [capture] sample_rate and channels"""


class Source(Protocol):
    name: str
    sample_rate: int
    channels: int
    #: Seconds of audio per block it hands over (sizes the queue in seconds, not blocks).
    block_s: float
    #: The audio can be read again after a crash (a file replayed as fast as possible): the
    #: writer may commit in big batches, since a crashed replay is re-run rather than lost.
    rereadable: bool

    def now(self) -> float:
        """The source's clock (UNIX seconds): wall time live, virtual time when replaying."""

    def start(self, feed: FeedQueue) -> None: ...

    def stop(self) -> None: ...


class FileSource:
    def __init__(self, path: Path, start_ts: float, realtime: bool = False) -> None:
        self.path = Path(path)
        try:
            self._file = soundfile.SoundFile(str(self.path))
        except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
            raise BadFeedFile(self.path, str(exc).splitlines()[0] if str(exc) else "unreadable") from None
        info = self._file
        problem = None
        if info.format not in ("WAV", "WAVEX", "FLAC") or not info.subtype.startswith("PCM"):
            problem = f"it is {info.format}/{info.subtype}"
        elif info.samplerate not in _RATES:
            problem = f"its sample rate is {info.samplerate} Hz"
        elif info.channels not in (1, 2):
            problem = f"it has {info.channels} channels"
        if problem:
            self._file.close()
            raise BadFeedFile(self.path, problem)
        self.name = f"replay:{self.path.name}"
        self.sample_rate = info.samplerate
        self.channels = info.channels
        self.start_ts = start_ts
        self.realtime = realtime
        self.block_s = BLOCK_S if realtime else _FAST_BLOCK_S
        self.rereadable = not realtime
        self._offset = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Why the file could not be read to its end (None: it was, or reading goes on).
        self.error: CaptureError | None = None

    @property
    def duration_s(self) -> float:
        return self._file.frames / self.sample_rate

    def now(self) -> float:
        return self.start_ts + self._offset / self.sample_rate

    def start(self, feed: FeedQueue) -> None:
        self._thread = threading.Thread(target=self._read, args=(feed,), name="replay-source", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._file.close()

    def _read(self, feed: FeedQueue) -> None:
        """Until the end of the file; a file that cannot be read further (a truncated FLAC) ends
        the feed there and leaves :attr:`error` for the writer to report."""
        block = round(self.sample_rate * self.block_s)
        paced_from = time.monotonic()
        while not self._stop.is_set():
            try:
                frames = self._file.read(block, dtype="int16", always_2d=True)
            except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                self.error = FeedReadFailed(self.path, self._offset / self.sample_rate, detail)
                break
            if not len(frames):
                break
            if self.realtime:
                self._stop.wait(max(0.0, paced_from + (self._offset + len(frames)) / self.sample_rate - time.monotonic()))
            if not feed.put(Block(self.now(), frames, self.sample_rate), self._stop):
                return
            self._offset += len(frames)
        feed.put(End(), self._stop)


class DeviceSource:
    """A sounddevice ``InputStream``. The callback only enqueues; a supervisor thread notices a
    device that stopped delivering and reopens it with a doubling backoff."""

    block_s = BLOCK_S
    rereadable = False

    def __init__(self, config: CaptureConfig, backend=sounddevice) -> None:
        self._sd = backend
        self.device: int | str | None = _device_spec(config.device)
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.retry_max_s = config.device_retry_max_s
        try:
            info = backend.query_devices(self.device, "input")
        except (ValueError, sounddevice.PortAudioError):
            raise DeviceNotFound(config.device or "(system default)") from None
        try:
            backend.check_input_settings(device=self.device, channels=self.channels, dtype="int16",
                                         samplerate=self.sample_rate)
        except Exception as exc:  # PortAudioError or ValueError, depending on what the host API rejects
            raise DeviceUnusable(config.device or info["name"], self.sample_rate, self.channels,
                                 str(exc).splitlines()[0]) from None
        self.name = f"device:{info['name']}"
        self._feed: FeedQueue | None = None
        self._last_callback = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def now(self) -> float:
        return time.time()

    def start(self, feed: FeedQueue) -> None:
        self._feed = feed
        self._thread = threading.Thread(target=self._supervise, name="capture-device", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _callback(self, indata: np.ndarray, frames: int, time_info, status) -> None:
        now = time.time()
        self._last_callback = time.monotonic()
        ts = now - frames / self.sample_rate
        if status.input_overflow:
            self._feed.mark_dropped(ts - frames / self.sample_rate, ts)
        self._feed.offer(Block(ts, indata.copy(), self.sample_rate))

    def _open(self):
        stream = self._sd.InputStream(device=self.device, samplerate=self.sample_rate, channels=self.channels,
                                      dtype="int16", blocksize=round(self.sample_rate * BLOCK_S),
                                      callback=self._callback)
        stream.start()
        return stream

    def _supervise(self) -> None:
        backoff = 1.0
        lost_at: float | None = None
        while not self._stop.is_set():
            detail = "stream stopped delivering audio"
            try:
                stream = self._open()
            except Exception as exc:  # the device is gone or busy: PortAudioError, OSError
                detail = f"cannot open the device ({type(exc).__name__})"
            else:
                delivered, last_audio = self._watch(stream, lost_at is not None)
                if delivered:
                    lost_at, backoff = None, 1.0
            if self._stop.is_set():
                break
            if lost_at is None:
                lost_at = last_audio if detail.startswith("stream") else time.time()
                self._feed.put(Lost(lost_at, detail))
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.retry_max_s)

    def _watch(self, stream, was_lost: bool) -> tuple[bool, float]:
        """Watch an open stream until it fails or we stop: (did it deliver audio, wall time of the last audio)."""
        opened = time.monotonic()
        self._last_callback = 0.0
        delivered = False
        try:
            while not self._stop.wait(0.25):
                if not delivered and self._last_callback > opened:
                    delivered = True
                    if was_lost:
                        self._feed.put(Restored(time.time()))
                last = self._last_callback if delivered else opened
                if not stream.active or time.monotonic() - last > _SILENT_DEVICE_S:
                    break
        finally:
            _close_quietly(stream)
        last = self._last_callback if delivered else opened
        return delivered, time.time() - (time.monotonic() - last)


def _device_spec(device: str) -> int | str | None:
    if device == "":
        return None
    return int(device) if device.isdigit() else device


def _close_quietly(stream) -> None:
    try:
        stream.abort()
        stream.close()
    except Exception:  # closing a stream whose device vanished can fail; it is gone either way
        pass

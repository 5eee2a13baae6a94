"""The ``[capture]`` section: where the line feed comes from and how calls are found in it."""

from __future__ import annotations

from dataclasses import dataclass, field

from callrec.config._fields import check

__all__ = ["CaptureConfig"]


@dataclass(frozen=True)
class CaptureConfig:
    #: sounddevice input: a device name (substring) or index as a string; "" = system default.
    device: str = ""
    sample_rate: int = field(default=8000, metadata=check(lambda v: v in (8000, 16000), "must be 8000 or 16000"))
    channels: int = field(default=1, metadata=check(lambda v: v in (1, 2), "must be 1 or 2"))
    #: What each channel carries when channels = 2.
    channel_roles: list[str] = ("caller", "staff")
    #: Silence (seconds) after which a call is over; long enough that a hold stays one call.
    end_silence_s: float = field(default=40.0, metadata=check(lambda v: 1 <= v <= 3600, "must be between 1 and 3600 seconds"))
    #: A call whose speech spans less than this is kept but flagged "short".
    short_call_s: float = field(default=10.0, metadata=check(lambda v: v >= 0, "must not be negative"))
    #: Input that is digital zeros or constant for this long is a flatline gap (pulled cable).
    flatline_s: float = field(default=60.0, metadata=check(lambda v: v > 0, "must be positive"))
    #: A test call ends this long after its last speech (or digit): a test call is short, and a
    #: real call that follows it is a call of its own.
    test_tail_s: float = field(default=5.0, metadata=check(lambda v: 1 <= v <= 3600, "must be between 1 and 3600 seconds"))
    #: DTMF digits that mark a call as an end-to-end test call.
    test_dtmf: str = field(default="*0*0#", metadata=check(lambda v: v != "" and set(v) <= set("0123456789*#ABCD"), "must be DTMF digits 0-9 * # A-D"))
    #: Bound of the queue between the audio callback and the writer, in seconds of audio.
    queue_s: float = field(default=30.0, metadata=check(lambda v: v >= 1, "must be at least 1 second"))
    #: Audio kept from before the moment a call is recognised, so its first syllable is never cut.
    pre_roll_s: float = field(default=1.5, metadata=check(lambda v: 0 <= v <= 10, "must be between 0 and 10 seconds"))
    #: A call starts when at least start_active_s of activity falls within start_window_s.
    start_active_s: float = field(default=0.25, metadata=check(lambda v: v > 0, "must be positive"))
    start_window_s: float = field(default=1.0, metadata=check(lambda v: 0 < v <= 10, "must be between 0 and 10 seconds"))
    #: Activity = one sub-band of the telephone band (300-3400 Hz) this many dB above its own
    #: adaptive noise floor ...
    activity_margin_db: float = field(default=12.0, metadata=check(lambda v: 3 <= v <= 60, "must be between 3 and 60 dB"))
    #: ... and the telephone band louder than this absolute level (dB full scale).
    min_level_dbfs: float = field(default=-50.0, metadata=check(lambda v: -90 <= v < 0, "must be between -90 and 0 dBFS"))
    #: Heartbeat of the capture session in the coverage ledger (seconds).
    heartbeat_s: float = field(default=5.0, metadata=check(lambda v: 0 < v <= 60, "must be between 0 and 60 seconds"))
    #: Device lost: retry with a backoff doubling from 1 s up to this many seconds.
    device_retry_max_s: float = field(default=30.0, metadata=check(lambda v: v >= 1, "must be at least 1 second"))

    def problem(self) -> str | None:
        if self.channels == 2 and len(self.channel_roles) != 2:
            return "channel_roles must name two channels when channels = 2"
        if self.short_call_s >= self.end_silence_s * 10:
            return "short_call_s is impossibly long compared to end_silence_s"
        if self.start_active_s > self.start_window_s:
            return "start_active_s cannot be longer than start_window_s"
        if self.pre_roll_s < self.start_window_s:
            return "pre_roll_s must be at least start_window_s, or the first syllable of a call is cut"
        if self.end_silence_s <= self.start_window_s:
            return "end_silence_s must be longer than start_window_s"
        if self.test_tail_s > self.end_silence_s:
            return "test_tail_s cannot be longer than end_silence_s"
        return None

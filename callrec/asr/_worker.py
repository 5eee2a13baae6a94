"""The background worker: transcribes sealed calls from the vault queue.

``[asr] workers`` threads decode that many calls in parallel, all with the one loaded model
(:func:`load_model`; Vosk's model is shared, each call gets its own recognisers). They run at a
lower scheduling priority than capture (nice 10); Vosk releases the GIL while it decodes, so
capture keeps running.
A restart resumes the queue (:func:`resume_interrupted`). Log lines name calls by id and say
nothing about what was said (DESIGN.md invariant 9).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from callrec.asr._engine import ENGINE_NAME, Engine
from callrec.asr._lines import join_words
from callrec.asr._models import ModelInfo, active_model
from callrec.asr._quality import count_transcripts, transcript_counts
from callrec.asr._queue import sealed_blocks
from callrec.config import Config
from callrec.errors import CallrecError
from callrec.vault import Vault
from callrec.vault.calls import (
    Claim,
    TranscribedChannel,
    claim_next,
    finish_done,
    finish_failed,
    mark_no_model,
    release,
    requeue_no_model,
    resume_interrupted,
)

__all__ = ["TranscriptionWorker", "WORKER_NICE"]

log = logging.getLogger("callrec.asr")

#: Niceness of worker threads: below capture, which runs at the process's own priority.
WORKER_NICE = 10
#: Without a notify(), look at the queue this often (calls queued by another process).
_POLL_S = 30.0


class _Stopped(Exception):
    """The worker is stopping; give the call back to the queue."""


def _lower_priority() -> None:
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, max(WORKER_NICE, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:
        log.warning("could not lower the priority of a transcription thread")


def _until_stopped(blocks: Iterable[np.ndarray], stop: threading.Event) -> Iterator[np.ndarray]:
    for block in blocks:
        if stop.is_set():
            raise _Stopped
        yield block


class TranscriptionWorker:
    def __init__(self, config: Config, *, poll_s: float = _POLL_S) -> None:
        self.config = config
        self.poll_s = poll_s
        self._vault: Vault | None = None
        self._vault_lock = threading.Lock()
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._wakeups = 0
        self._busy = 0
        self._threads: list[threading.Thread] = []
        #: One thread at a time counts old transcripts, newest first: where the next batch starts,
        #: and the threshold they were all counted at once it is done.
        self._counting = threading.Lock()
        self._count_from: int | None = None
        self._counted_below: float | None = None

    @property
    def vault(self) -> Vault:
        with self._vault_lock:
            if self._vault is None:
                self._vault = Vault.open(self.config)
            return self._vault

    def start(self) -> None:
        """Resume what a crash left running, then start the worker threads."""
        if not self.config.asr.enabled or self._threads:
            return
        resumed = resume_interrupted(self.vault, self.config.asr.max_attempts)
        if resumed:
            log.info("resumed %d interrupted transcription(s)", resumed)
        self._stop.clear()
        for n in range(self.config.asr.parallel):
            thread = threading.Thread(target=self._run, name=f"callrec-asr-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def notify(self) -> None:
        """A call was sealed: wake up."""
        with self._cond:
            self._wakeups += 1
            self._cond.notify_all()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop the threads; a call being decoded goes back to the queue."""
        self._stop.set()
        self.notify()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        with self._vault_lock:
            if self._vault is not None:
                self._vault.close()
                self._vault = None

    def drain(self, on_call: Callable[[], None] | None = None) -> None:
        """Process the queue until nothing is pending, with ``[asr] workers`` calls at a time
        (this thread and helpers), then wait for the worker threads to finish what they hold.
        ``on_call`` runs after each call is done (transcribed or failed), e.g. to advance a bar."""
        if not self.config.asr.enabled:
            return
        helpers = [threading.Thread(target=self._drain_one_lane, args=(on_call,), name=f"callrec-asr-drain-{n}",
                                    daemon=True) for n in range(self.config.asr.parallel - 1)]
        for thread in helpers:
            thread.start()
        self._drain_one_lane(on_call)
        for thread in helpers:
            thread.join()
        with self._cond:
            while self._busy:
                self._cond.wait()

    def _drain_one_lane(self, on_call: Callable[[], None] | None = None) -> None:
        while not self._stop.is_set() and self._process_one():
            if on_call is not None:
                on_call()

    def _run(self) -> None:
        _lower_priority()
        while not self._stop.is_set():
            with self._cond:
                seen = self._wakeups
            try:
                worked = self._process_one()
            except CallrecError as exc:
                log.error("transcription queue: %s", exc)
                worked = False
            if worked or self._count_some():
                continue
            with self._cond:
                if self._wakeups == seen and not self._stop.is_set():
                    self._cond.wait(self.poll_s)

    def _count_some(self) -> bool:
        """With nothing to transcribe: store the quality counts of a batch of transcripts that have
        none (written before they were stored, or counted at another threshold). True when it did."""
        below = self.config.asr.uncertain_below
        if self._counted_below == below or not self._counting.acquire(blocking=False):
            return False
        try:
            self._count_from = count_transcripts(self.vault, below, older_than=self._count_from)
            if self._count_from is not None:
                return True
            self._counted_below = below
        except CallrecError as exc:  # not retried every poll: the next start counts again
            log.error("counting transcripts: %s", exc)
            self._counted_below = below
        finally:
            self._counting.release()
        return False

    def _model(self) -> tuple[ModelInfo | None, CallrecError | None]:
        try:
            return active_model(self.config), None
        except CallrecError as exc:
            return None, exc

    def _process_one(self) -> bool:
        """Transcribe one pending call; False when there was none to take."""
        vault = self.vault
        info, problem = self._model()
        if info is None and problem is None:
            mark_no_model(vault)
            return False
        requeue_no_model(vault)
        with self._cond:
            self._busy += 1
        try:
            claim = claim_next(vault)
            if claim is None:
                return False
            self._transcribe(vault, claim, info, problem)
            return True
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def _transcribe(self, vault: Vault, claim: Claim, info: ModelInfo | None, problem: CallrecError | None) -> None:
        started = time.monotonic()
        try:
            if problem is not None:
                raise problem
            engine = Engine(info)
            words = engine.transcribe(_until_stopped(sealed_blocks(vault, claim.call_id), self._stop),
                                      claim.sample_rate, claim.channels)
        except _Stopped:
            release(vault, claim)
            return
        except CallrecError as exc:
            self._failed(vault, claim, str(exc))
            return
        except Exception as exc:  # a bug or a Vosk failure: the call must not stay "running"
            log.debug("call %d: transcription error", claim.call_id, exc_info=True)
            self._failed(vault, claim, f"internal error ({type(exc).__name__}); see the journal at debug level")
            return
        language = info.language or self.config.asr.language
        below = self.config.asr.uncertain_below
        finish_done(vault, claim, ENGINE_NAME, info.name, info.sha256,
                    [TranscribedChannel(w, join_words(w, language), transcript_counts(w, below, claim.duration_s))
                     for w in words])
        elapsed = time.monotonic() - started
        log.info("call %d transcribed: %.1f s of audio in %.1f s (model %s)",
                 claim.call_id, claim.duration_s, elapsed, info.name)

    def _failed(self, vault: Vault, claim: Claim, reason: str) -> None:
        status = finish_failed(vault, claim, reason, self.config.asr.max_attempts)
        log.warning("call %d: transcription attempt %d failed (%s): %s", claim.call_id, claim.attempt,
                    "giving up" if status == "failed" else "will retry", reason)

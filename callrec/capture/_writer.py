"""What every line's writer shares: its own thread, asked to stop, joined (re-raising what made it
fail), and watched (the loop must go round: the daemon's watchdog test)."""

from __future__ import annotations

import threading
import time

__all__ = ["WriterThread"]


class WriterThread:
    """A writer (:class:`~callrec.capture.Pipeline`, :class:`~callrec.capture.CallsPipeline`) runs
    :meth:`run` in a thread of its own. Subclasses set ``error``, ``last_progress``, ``_stop`` and
    ``_thread`` in their ``__init__`` and move ``last_progress`` each time their loop goes round."""

    #: The thread's name (a writer of a named line says which).
    thread_name = "capture-writer"
    error: BaseException | None
    last_progress: float
    _stop: threading.Event
    _thread: threading.Thread | None

    def run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Run the writer in a thread of its own (see :meth:`join`)."""
        self._thread = threading.Thread(target=self._run_catching, name=self.thread_name)
        self._thread.start()

    def stop(self) -> None:
        """Ask the writer to finish: the calls in progress are sealed, the session closed."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the writer; True once it is done. Re-raises what made it fail."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        if self.error is not None:
            raise self.error
        return True

    def alive(self, max_age_s: float) -> bool:
        """The writer loop went round within ``max_age_s`` (the watchdog's test)."""
        return (self._thread is not None and self._thread.is_alive()
                and time.monotonic() - self.last_progress < max_age_s)

    def _run_catching(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # handed to join() in the thread that owns the process
            self.error = exc

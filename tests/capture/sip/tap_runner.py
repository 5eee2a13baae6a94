"""Run a live SipSource until SIGTERM and pickle what it emitted (the SIP lab's tap process).

``python -m tests.capture.sip.tap_runner SETTINGS_JSON OUT.pickle``; prints ``ready`` once the
interface is open, so a test knows the capture has begun.
"""

from __future__ import annotations

import json
import pickle
import signal
import sys
import threading
import time

from callrec.capture.sip import SipSource, SipSourceSettings


def main(settings_json: str, out: str) -> None:
    raw = json.loads(settings_json)
    settings = SipSourceSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
    events: list = []
    lock = threading.Lock()

    def emit(event: object) -> None:
        with lock:
            events.append(event)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    source = SipSource(settings)
    source.start(emit)
    print("ready", flush=True)
    while not done.wait(0.1) and not source.join(0):
        pass
    source.stop()
    with lock, open(out, "wb") as f:
        pickle.dump({"events": events, "stats": source.stats(), "error": repr(source.error) if source.error else None,
                     "cpu_s": time.process_time()}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

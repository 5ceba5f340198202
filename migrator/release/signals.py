"""SIGINT and SIGTERM while the router moves traffic.

    with stop_on_signals():        # Ctrl-C or SIGTERM raise Stopped(signum) here, in the main thread
        move_traffic(...)
    with signals_held() as got:    # while traffic goes back to blue: a signal is noted, not acted on
        rollback_traffic(...)

Stopped is a BaseException so that code catching Exception (a hook's call, a router's probe) lets it through.
Outside the main thread (signal handlers live there) both are no-ops.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def stop_on_signals():
    if not _main_thread():
        yield
        return

    def stop(signum, frame):
        raise Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def signals_held(note: str = "sending traffic back to blue first"):
    received: list[int] = []
    if not _main_thread():
        yield received
        return

    def hold(signum, frame):
        received.append(signum)
        print(f"migrator: {signal.Signals(signum).name} received: {note}", file=sys.stderr, flush=True)

    previous = {s: signal.signal(s, hold) for s in SIGNALS}
    try:
        yield received
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

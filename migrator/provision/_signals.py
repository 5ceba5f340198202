"""SIGTERM -> SignalExit while servers are live; SIGINT/SIGTERM deferred while cleanup runs.

Python runs signal handlers in the main thread only, so both helpers do nothing in other threads
(a server started there is still stopped by its `with` block and by the atexit hook).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import SignalExit

_depth = 0
_saved = None


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise(signum, frame):
    raise SignalExit(signum)


def acquire() -> bool:
    """Convert SIGTERM into SignalExit until the matching release(); nests. False if not possible here."""
    global _depth, _saved
    if not _main_thread():
        return False
    if _depth == 0:
        previous = signal.getsignal(signal.SIGTERM)
        if previous is signal.SIG_IGN:  # the parent asked us to ignore SIGTERM: keep it that way
            return False
        _saved = signal.signal(signal.SIGTERM, _raise)
    _depth += 1
    return True


def release() -> None:
    global _depth, _saved
    if _depth == 0 or not _main_thread():
        return
    _depth -= 1
    if _depth == 0:
        signal.signal(signal.SIGTERM, _saved if _saved is not None else signal.SIG_DFL)
        _saved = None


@contextmanager
def deferred() -> Iterator[None]:
    """Run a cleanup block to its end: SIGINT/SIGTERM arriving meanwhile are re-delivered afterwards."""
    if not _main_thread():
        yield
        return
    pending: list[int] = []
    signums = (signal.SIGINT, signal.SIGTERM)
    old = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in signums}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)

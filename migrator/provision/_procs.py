"""Process identity without psutil: (pid, start time) pairs so that only our own processes are signalled."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

_PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on; comm may hold spaces


def identity(pid: int) -> tuple[int, int] | None:
    """(pid, start time) of a live, non-zombie process, or None. Elsewhere than Linux: (pid, 0) if it exists."""
    if _PROC.is_dir():
        fields = _stat(pid)
        if fields is None or fields[0] in ("Z", "X"):
            return None
        return pid, int(fields[19])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid, 0


def alive(ident: tuple[int, int]) -> bool:
    """Is the process `ident` (from identity()) still running, and still the same process?"""
    now = identity(ident[0])
    return now is not None and (now[1] == ident[1] or ident[1] == 0)


def children(pid: int) -> list[tuple[int, int]]:
    """Identities of the live direct children of `pid` (Linux /proc; psutil elsewhere when installed)."""
    found = []
    if _PROC.is_dir():
        for entry in _PROC.iterdir():
            if entry.name.isdigit():
                fields = _stat(int(entry.name))
                if fields and fields[1] == str(pid) and fields[0] not in ("Z", "X"):
                    found.append((int(entry.name), int(fields[19])))
        return found
    try:
        import psutil
    except ImportError:
        return found
    try:
        return [(c.pid, 0) for c in psutil.Process(pid).children()]
    except psutil.Error:
        return found


def signal_if_alive(ident: tuple[int, int], signum: int) -> None:
    if alive(ident):
        try:
            os.kill(ident[0], signum)
        except (ProcessLookupError, PermissionError):
            pass


def kill_group(proc, grace: float = 0.0) -> None:
    """SIGTERM the process group `proc` leads (it was started with start_new_session), SIGKILL after `grace`
    seconds (at once when 0), and reap `proc`."""
    pgid = proc.pid
    if not pgid:  # a forked runner child whose fork server ended before forking it: nothing to signal
        return
    if grace > 0:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL not delivered
        pass

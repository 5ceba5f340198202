"""One coordinator per database: a session-level PostgreSQL advisory lock held for the whole command."""

from __future__ import annotations

import time
from contextlib import contextmanager

from migrator.release.errors import CoordinatorBusy

LOCK_KEY = 0x6D6967726174  # "migrat": one key per database, shared by every migrator command


@contextmanager
def coordinator(conn, *, wait: float = 0.0, poll: float = 0.2):
    """Hold the coordinator lock on `conn`'s session; another holder -> CoordinatorBusy (exit 2) at once,
    or after `wait` seconds."""
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
            break
        if time.monotonic() >= deadline:
            holder = conn.execute(
                "SELECT a.pid, a.application_name, a.client_addr, now() - a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND (l.classid::bigint << 32 | l.objid::bigint) = %s LIMIT 1", (LOCK_KEY,)).fetchone()
            who = f" (pid {holder[0]}{', ' + holder[1] if holder and holder[1] else ''})" if holder else ""
            raise CoordinatorBusy(f"another migrator command is running on this database{who}; "
                                  "retry later or pass --wait SECONDS")
        time.sleep(poll)
    try:
        yield
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))

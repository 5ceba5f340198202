"""One coordinator per database: a session-level PostgreSQL advisory lock held for the whole command, on a session
that is kept alive and watched.

    lock = CoordinatorLock(conn, ledger, command="migrate")
    lock.acquire(wait=0)          # CoordinatorBusy (exit 2) naming the holder: command, user@host, client pid, start
    lock.check()                  # CoordinatorLost (exit 2) when the session died or no longer holds the lock
    lock.handoff()                # {"pid": ..., "key": ...}: what the app's child checks before every backfill batch
    lock.on_lost(runner.close)    # the watcher (every WATCH_INTERVAL s) calls it once the lock is gone
    lock.release()

The lock lives on the command's own connection (`keepalive_options()`: TCP keepalives on both ends, and the
session's idle_session_timeout / idle_in_transaction_session_timeout off), so a proxy or a server setting does not
end it while the command waits on a router or a child. If it ends anyway (pg_terminate_backend, a restart), the
watcher notices within a second and the command stops: no revision or batch starts without the lock.

Who holds the lock is written to the ledger's `coordinator` table (the lock session's pid and start, the command,
user@host, the client's pid, when it started, and the applier's session), so the next command can name it, and can
tell a live run that lost its lock (its applier session is still connected) from the orphans of a killed one.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import datetime

from migrator.release.errors import CoordinatorBusy, CoordinatorLost

LOCK_KEY = 0x6D6967726174  # "migrat": one key per database, shared by every migrator command
WATCH_INTERVAL = 1.0       # seconds between two checks of the lock session

_HELD = ("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
         "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
         "AND (classid::bigint << 32 | objid::bigint) = %s AND objsubid = 1)")
_HOLDER = ("SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l "
           "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
           "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
           "AND (l.classid::bigint << 32 | l.objid::bigint) = %s AND l.objsubid = 1 LIMIT 1")


def keepalive_options() -> dict:
    """libpq options of the lock session: the client notices a dead server (or path) within about 25 s."""
    return {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


def lock_session_sql(server_version: int) -> list[str]:
    """The lock session is idle for most of a command: no idle timeout of the role or database may end it, and the
    server probes the client too."""
    out = ["SET idle_in_transaction_session_timeout = 0", "SET tcp_keepalives_idle = 10",
           "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3"]
    if server_version >= 140000:
        out.append("SET idle_session_timeout = 0")
    return out


def describe(row: dict | None) -> str:
    """"migrate by deploy@ci-7 (client pid 4242) since 2024-05-01 10:00:00+00:00" from a coordinator row."""
    if not row:
        return "unknown"
    started = row.get("started_at")
    when = started.isoformat(sep=" ", timespec="seconds") if isinstance(started, datetime) else str(started or "?")
    return (f"`migrator {row.get('command') or '?'}` by {row.get('actor') or '?'} on {row.get('host') or '?'} "
            f"(client pid {row.get('client_pid') or '?'}), running since {when}")


class CoordinatorLock:
    """The advisory lock on `conn`'s session, with its holder row in `ledger` (None: no ledger yet)."""

    def __init__(self, conn, ledger=None, *, command: str | None = None, key: int = LOCK_KEY):
        self.conn = conn
        self.ledger = ledger
        self.command = command
        self.key = key
        self.pid: int = conn.info.backend_pid
        self.held = False
        self.previous: list[dict] = []   # holder rows left by commands that did not end cleanly
        self.lost_reason: str | None = None
        self._callbacks: list = []
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._guard = threading.Lock()

    # -- taking and giving back ---------------------------------------------------------------------------
    def acquire(self, wait: float = 0.0, poll: float = 0.2) -> "CoordinatorLock":
        deadline = time.monotonic() + max(0.0, wait)
        while not self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise CoordinatorBusy(f"another migrator command is running on this database ({self.holder()}); "
                                      "retry later or pass --wait SECONDS")
            time.sleep(poll)
        self.held = True
        self._register()
        self._watch()
        return self

    def release(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        if not self.held or self.conn.closed or self.lost_reason:
            return
        if self.ledger is not None:
            self.conn.execute(self.ledger.q("DELETE FROM {schema}.coordinator WHERE lock_pid = %s"), (self.pid,))
        self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self.held = False

    def holder(self) -> str:
        """Who holds the lock now: the holder's row when it wrote one, else its session's pid and name."""
        found = self.conn.execute(_HOLDER, (self.key,)).fetchone()
        if not found:
            return "its holder just finished"
        pid, app, started = found
        for row in self._rows():
            if row["lock_pid"] == pid and row["lock_backend_start"] == started:
                return describe(row)
        return f"pid {pid}{', ' + app if app else ''}"

    def _rows(self) -> list[dict]:
        if self.ledger is None or not self.ledger.exists():
            return []
        return self.ledger.coordinator_rows()

    def _register(self) -> None:
        """Write this command's holder row; keep the rows of commands that ended without removing theirs."""
        if self.ledger is None or not self.ledger.exists():
            return
        with self.conn.transaction():
            self.previous = [r for r in self._rows() if r["lock_pid"] != self.pid]
            self.conn.execute(self.ledger.q("DELETE FROM {schema}.coordinator"))
            self.conn.execute(self.ledger.q(
                "INSERT INTO {schema}.coordinator (lock_pid, lock_backend_start, command, actor, host, client_pid) "
                "SELECT pid, backend_start, %s, %s, %s, %s FROM pg_stat_activity WHERE pid = pg_backend_pid()"),
                (self.command, _actor(), socket.gethostname(), os.getpid()))

    def register_applier(self, pid: int) -> None:
        """The applier's own session: while it is connected, this command is alive (see the orphan guard)."""
        if self.ledger is None or self.lost_reason:
            return
        self.conn.execute(self.ledger.q(
            "UPDATE {schema}.coordinator SET applier_pid = a.pid, applier_backend_start = a.backend_start "
            "FROM pg_stat_activity a WHERE a.pid = %s AND lock_pid = %s"), (pid, self.pid))

    # -- is it still ours ---------------------------------------------------------------------------------
    def handoff(self) -> dict:
        """What the app's child needs to check the lock before every backfill batch."""
        return {"pid": self.pid, "key": self.key}

    def check(self, before: str | None = None) -> None:
        """CoordinatorLost unless this session is alive and holds the lock."""
        if self.lost_reason is None:
            self._probe()
        if self.lost_reason is not None:
            where = f"; stopped before {before}" if before else ""
            raise CoordinatorLost(
                f"lost the coordinator lock ({self.lost_reason}){where}: another migrator command may be running on "
                "this database now. What is recorded as applied is committed; check `migrator status`, then re-run "
                "the command")

    def _probe(self) -> None:
        with self._guard:
            if self.lost_reason is not None:
                return
            try:
                held = self.conn.execute(_HELD, (self.key,)).fetchone()[0]
            except Exception as exc:  # noqa: BLE001 - any failure of this session means the lock is gone
                if not (self.conn.closed or self.conn.broken):
                    return  # a statement error of the session's own work, not a lost session
                self.lost_reason = (f"its session, pid {self.pid}, ended: "
                                    f"{(str(exc).strip().splitlines() or [type(exc).__name__])[0]}")
            else:
                if held:
                    return
                self.lost_reason = f"its session, pid {self.pid}, no longer holds it"
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - stopping what runs must not hide the loss
                pass

    @property
    def lost(self) -> bool:
        return self.lost_reason is not None

    def on_lost(self, callback) -> None:
        """Call `callback` (from the watcher's thread) once the lock is found lost."""
        with self._guard:
            if self.lost_reason is None:
                self._callbacks.append(callback)
                return
        callback()

    def forget(self, callback) -> None:
        with self._guard:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def _watch(self) -> None:
        def watch():
            while not self._stop.wait(WATCH_INTERVAL):
                if self.conn.closed and not self.lost_reason:
                    return
                self._probe()
                if self.lost_reason is not None:
                    return

        self._watcher = threading.Thread(target=watch, name="migrator-coordinator-watch", daemon=True)
        self._watcher.start()


def _actor() -> str:
    from migrator.release.ledger import actor

    return actor()

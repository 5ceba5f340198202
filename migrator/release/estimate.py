"""How long a statement's work takes on the live database: an estimate for the plan, never a promise.

    rates = sample_rates(conn)                   # timed once per server and process, on a temporary table
    sizes = table_sizes(conn, {"users"})         # pg_class.reltuples, pg_relation_size, pg_total_relation_size
    est = estimate("rewrite", sizes["users"], rates)
    est.text                                     # "~2.3 s, estimate"

The rates come from timing, on this server, a sequential scan, a rewrite (ALTER COLUMN TYPE ... USING), an index
build and an UPDATE of every row of a temporary table of SAMPLE_ROWS rows, inside a transaction that is rolled
back. A temporary table writes no WAL and sits in local buffers, and real tables may be cold on disk, so real
durations can be longer; the plan says "estimate" wherever it shows one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from migrator.durations import format_seconds

log = logging.getLogger(__name__)

SAMPLE_ROWS = 50_000
KINDS = ("scan", "rewrite", "index", "backfill")
# a temporary table writes no WAL; a real rewrite writes the new heap to WAL too (measured here: real rewrites took
# 1.5-2.7x the temporary table's rate)
WAL_FACTOR = 2.0
_CACHE: dict[tuple, "Rates | None"] = {}
_CACHE_LOCK = threading.Lock()
_KEY_LOCKS: dict[tuple, threading.Lock] = {}


@dataclass(frozen=True)
class Rates:
    scan_bytes_per_s: float
    rewrite_bytes_per_s: float
    index_rows_per_s: float
    update_rows_per_s: float
    sample_rows: int
    sample_bytes: int

    @property
    def bytes_per_row(self) -> float:
        return self.sample_bytes / max(1, self.sample_rows)

    def to_dict(self) -> dict:
        return {"scan_bytes_per_s": round(self.scan_bytes_per_s), "rewrite_bytes_per_s": round(self.rewrite_bytes_per_s),
                "index_rows_per_s": round(self.index_rows_per_s), "update_rows_per_s": round(self.update_rows_per_s),
                "sample_rows": self.sample_rows, "sample_bytes": self.sample_bytes,
                "how": "timed on a temporary table on this server, rolled back"}


@dataclass(frozen=True)
class TableSize:
    rows: int | None  # planner estimate (reltuples); None when never analysed
    bytes: int  # the heap: pg_relation_size
    total_bytes: int  # with indexes and TOAST: pg_total_relation_size

    def to_dict(self) -> dict:
        return {"rows": self.rows, "bytes": self.bytes, "total_bytes": self.total_bytes}


@dataclass(frozen=True)
class Estimate:
    kind: str  # scan | rewrite | index | backfill
    seconds: float
    basis: str  # how it was reckoned, for the reader

    @property
    def text(self) -> str:
        shown = format_seconds(self.seconds)
        return f"{shown if shown.startswith('<') else '~' + shown}, estimate"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "seconds": round(self.seconds, 3), "text": self.text, "basis": self.basis,
                "estimate": True}




def format_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


# --- the live database -------------------------------------------------------------------------------------------


def relation_row(conn, name: str, columns: str):
    """`columns` of pg_class (as `c`) for the table or materialized view `name` resolves to; None when none does."""
    import psycopg

    try:
        return conn.execute(f"SELECT {columns} FROM pg_class c WHERE c.oid = to_regclass(%s) "
                            "AND c.relkind IN ('r', 'p', 'm')", (name,)).fetchone()
    except psycopg.Error:  # a name to_regclass cannot parse
        return None


def table_sizes(conn, tables: set[str]) -> dict[str, TableSize]:
    """table name (as the classifier spells it) -> its size; names that are no table there are left out."""
    found: dict[str, TableSize] = {}
    for name in sorted(t for t in tables if t):
        row = relation_row(conn, name, "c.reltuples, pg_relation_size(c.oid), pg_total_relation_size(c.oid)")
        if row is not None:
            reltuples, heap, total = row
            rows = int(reltuples) if reltuples is not None and reltuples >= 0 else None
            found[name] = TableSize(rows, int(heap or 0), int(total or 0))
    return found


def sample_rates(conn, *, rows: int = SAMPLE_ROWS, refresh: bool = False) -> Rates | None:
    """This server's rates, timed once per server and process (None when they cannot be timed: no temporary
    tables allowed, a read-only standby, a timeout). Per server, not per database: a fleet's databases on one
    server share its disk and CPU (timing each one made `fleet plan` 4x slower); threads wait for one timing."""
    info = conn.info
    key = (info.host, info.port, rows)
    with _CACHE_LOCK:
        lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with lock:  # one timing per server; other servers' threads go on
        if refresh or key not in _CACHE:
            _CACHE[key] = _time_sample(conn, rows)
        return _CACHE[key]


def _time_sample(conn, rows: int) -> Rates | None:
    import psycopg

    def timed(sql: str) -> float:
        start = time.perf_counter()
        conn.execute(sql)
        return time.perf_counter() - start

    try:
        with conn.transaction() as tx:
            conn.execute("SET LOCAL statement_timeout = '20s'")
            round_trip = min(timed("SELECT 1") for _ in range(3))
            conn.execute("CREATE TEMP TABLE migrator_rate_sample ON COMMIT DROP AS SELECT g AS id, g::bigint AS n, "
                         f"md5(g::text) AS t FROM generate_series(1, {int(rows)}) g")
            size = conn.execute("SELECT pg_relation_size('migrator_rate_sample')").fetchone()[0]
            scan = min(timed("SELECT count(*) FROM migrator_rate_sample WHERE t <> ''") for _ in range(2))
            rewrite = timed("ALTER TABLE migrator_rate_sample ALTER COLUMN n TYPE bigint USING n + 0")
            index = timed("CREATE INDEX ON migrator_rate_sample (t)")
            update = timed("UPDATE migrator_rate_sample SET n = n + 1")
            raise psycopg.Rollback(tx)
    except psycopg.Error as exc:
        log.info("estimates: cannot time a sample on this server: %s", str(exc).strip().splitlines()[0])
        return None

    def net(seconds: float) -> float:
        return max(seconds - round_trip, 1e-4)

    return Rates(scan_bytes_per_s=size / net(scan), rewrite_bytes_per_s=size / net(rewrite),
                 index_rows_per_s=rows / net(index), update_rows_per_s=rows / net(update), sample_rows=rows,
                 sample_bytes=int(size))


# --- estimates -------------------------------------------------------------------------------------------------


def estimate(kind: str, size: TableSize | None, rates: Rates | None) -> Estimate | None:
    """How long `kind` of work takes on a table of `size` (None: table unknown, e.g. created by this release)."""
    if size is None or rates is None or kind not in KINDS:
        return None
    rows = size.rows if size.rows is not None else int(size.bytes / rates.bytes_per_row)
    if kind == "scan":
        seconds = size.bytes / rates.scan_bytes_per_s
        basis = f"reads {format_bytes(size.bytes)} at {format_bytes(int(rates.scan_bytes_per_s))}/s"
    elif kind == "rewrite":
        # the heap is copied, then every index on it is rebuilt
        seconds = (size.bytes * WAL_FACTOR / rates.rewrite_bytes_per_s
                   + rows / rates.index_rows_per_s * _sort_factor(rows, rates) * _indexes(size))
        basis = (f"copies {format_bytes(size.bytes)} at {format_bytes(int(rates.rewrite_bytes_per_s / WAL_FACTOR))}/s "
                 f"with WAL and rebuilds its indexes")
    elif kind == "index":
        seconds = rows / rates.index_rows_per_s * _sort_factor(rows, rates)
        basis = f"sorts {rows:,} rows at {rates.index_rows_per_s:,.0f} rows/s (n log n)"
    else:
        seconds = rows / rates.update_rows_per_s
        basis = f"updates {rows:,} rows at {rates.update_rows_per_s:,.0f} rows/s, before batching overhead"
    return Estimate(kind, seconds, basis + " (rate sampled on this server)")


def _sort_factor(rows: int, rates: Rates) -> float:
    """An index build sorts: n log n, timed on the sample's n."""
    import math

    return max(1.0, math.log2(max(rows, 2)) / math.log2(max(rates.sample_rows, 2)))


def _indexes(size: TableSize) -> float:
    """Roughly how many indexes' worth of data sit beside the heap (0 when none)."""
    extra = max(0, size.total_bytes - size.bytes)
    return extra / size.bytes if size.bytes else 0.0


def work_kind(rewrite: str, sql: str, rules: set[str]) -> str | None:
    """The kind of work a planned statement does on its table: scan, rewrite, index, backfill or None."""
    from migrator.rules.m203_data_change import DataChange  # here: the estimate loads without the classifier

    if rewrite in ("scan", "rewrite", "index"):
        return rewrite
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if DataChange.id in rules and head in ("UPDATE", "DELETE", "INSERT", "WITH", "MERGE"):
        return "backfill"
    return None

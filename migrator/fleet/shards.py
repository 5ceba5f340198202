"""--shard I/N: a stable slice of the fleet, so N workers (a Kubernetes Indexed Job, a CI matrix) share it.

A database belongs to shard sha256(identity) mod N, its identity being host:port/dbname (no user, no password,
not its place in the list): every worker computes the same slices from any listing of the fleet, two shards
never share a database, and adding a database does not move the others. `auto/N` takes I from
$JOB_COMPLETION_INDEX (what Kubernetes sets in each pod of an Indexed Job).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from migrator.errors import UsageError

INDEX_ENV = "JOB_COMPLETION_INDEX"


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, identity: str) -> bool:
        return shard_of(identity, self.count) == self.index


ALL = Shard(0, 1)


def shard_of(identity: str, count: int) -> int:
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str | None, environ: Mapping[str, str] | None = None) -> Shard:
    """"I/N" (0 <= I < N), or "auto/N" with I from $JOB_COMPLETION_INDEX; None: the whole fleet."""
    if text is None or not str(text).strip():
        return ALL
    env = os.environ if environ is None else environ
    index_text, sep, count_text = str(text).strip().partition("/")
    try:
        count = int(count_text)
    except ValueError:
        count = 0
    if not sep or count < 1:
        raise UsageError(f"--shard {text!r}: give I/N (e.g. 0/4) or auto/N, with N >= 1")
    if index_text == "auto":
        value = env.get(INDEX_ENV)
        if value is None or not value.strip():
            raise UsageError(f"--shard auto/{count}: ${INDEX_ENV} is not set (a Kubernetes Indexed Job sets it); "
                             "give the index, e.g. --shard 0/4")
        index_text, where = value.strip(), f"${INDEX_ENV}={value.strip()!r}"
    else:
        where = f"--shard {text}"
    try:
        index = int(index_text)
    except ValueError:
        raise UsageError(f"{where}: the shard index must be a whole number") from None
    if not 0 <= index < count:
        raise UsageError(f"{where}: the shard index must be in 0..{count - 1}")
    return Shard(index, count)

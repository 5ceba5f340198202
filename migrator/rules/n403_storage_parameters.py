from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule
from migrator.sql.words import split_top_level

# Storage parameters PostgreSQL changes under SHARE UPDATE EXCLUSIVE (reloptions.c); any other takes ACCESS EXCLUSIVE.
_LIGHT = {"fillfactor", "toast_tuple_target", "parallel_workers", "vacuum_index_cleanup", "vacuum_truncate",
          "log_autovacuum_min_duration"}
_STORAGE = {"PLAIN", "EXTERNAL", "EXTENDED", "MAIN", "DEFAULT"}


class StorageParameters(AlterTableRule):
    """Storage, statistics and ownership settings.

    ## What it does
    Classifies ALTER TABLE actions that change how a table is stored or
    planned, not what blue sees: `SET (fillfactor = ...)` / `RESET (...)`,
    `CLUSTER ON`, `SET WITHOUT CLUSTER`, `ALTER COLUMN ... SET STATISTICS`,
    `ALTER COLUMN ... SET (n_distinct = ...)` / `RESET (...)`, `ALTER COLUMN
    ... SET STORAGE` / `SET COMPRESSION`, `OWNER TO` and `REPLICA IDENTITY`
    (phase none, info). Most take SHARE UPDATE EXCLUSIVE, which does not block
    reads or writes; `SET STORAGE`, `SET COMPRESSION`, `OWNER TO`, `REPLICA
    IDENTITY` and storage parameters other than fillfactor, autovacuum, toast
    and parallel_workers take ACCESS EXCLUSIVE for a moment.

    ## Why is this bad?
    It is not: none of these rewrites data (new settings apply to rows written
    later). `OWNER TO` can remove privileges blue relies on, and `REPLICA
    IDENTITY` changes what logical replication sends.

    ## Use instead
    Nothing to change; run the ACCESS EXCLUSIVE ones with `SET lock_timeout`.
    """

    id, name, phase, severity = "N403", "storage-parameters", Phase.NONE, Severity.INFO
    lock = Lock.SHARE_UPDATE_EXCLUSIVE

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            found = _classify(action)
            if found is not None:
                what, lock = found
                yield self.hit(f"{what} on {alter.table}: no rewrite ({lock.label} lock)", table=alter.table,
                               action=action.index, lock=lock)


def _classify(action) -> tuple[str, Lock] | None:
    words = action.words
    sue, ae = Lock.SHARE_UPDATE_EXCLUSIVE, Lock.ACCESS_EXCLUSIVE
    if words[:1] in (("SET",), ("RESET",)) and words[1:2] == ("(",) and words[-1:] == (")",):
        names = _option_names(words[2:-1], words[0] == "SET")
        if names is None:
            return None
        light = all(n in _LIGHT or n.startswith(("autovacuum_", "toast.")) for n in names)
        return f"{words[0]} ({', '.join(names)})", sue if light else ae
    if words[:2] == ("CLUSTER", "ON") and len(words) == 3:
        return f"CLUSTER ON {action.text(2)}", sue
    if words == ("SET", "WITHOUT", "CLUSTER"):
        return "SET WITHOUT CLUSTER", sue
    if words[:2] == ("OWNER", "TO") and len(words) == 3:
        return f"OWNER TO {action.text(2)}", ae
    if words[:2] == ("REPLICA", "IDENTITY") and (words[2:] in (("DEFAULT",), ("FULL",), ("NOTHING",))
                                                 or (words[2:4] == ("USING", "INDEX") and len(words) == 5)):
        return "REPLICA IDENTITY " + " ".join(action.text(i) for i in range(2, len(words))), ae
    if words[:1] == ("ALTER",):
        i = 2 if words[1:2] == ("COLUMN",) else 1
        if i >= len(words):
            return None
        column, rest = action.text(i), words[i + 1:]
        if rest[:2] == ("SET", "STATISTICS") and (len(rest) == 3 or (len(rest) == 4 and rest[2] == "-")):
            return f"ALTER COLUMN {column} SET STATISTICS", sue
        if rest[:1] in (("SET",), ("RESET",)) and rest[1:2] == ("(",) and rest[-1:] == (")",):
            if _option_names(rest[2:-1], rest[0] == "SET") is None:
                return None
            return f"ALTER COLUMN {column} {rest[0]} (attribute options)", sue
        if rest[:2] == ("SET", "STORAGE") and len(rest) == 3 and rest[2] in _STORAGE:
            return f"ALTER COLUMN {column} SET STORAGE {rest[2]}", ae
        if rest[:2] == ("SET", "COMPRESSION") and len(rest) == 3:
            return f"ALTER COLUMN {column} SET COMPRESSION {action.text(i + 3)}", ae
    return None


def _option_names(words: tuple[str, ...], with_values: bool) -> list[str] | None:
    names = []
    for item in split_top_level(words):
        if not item:
            return None
        name, j = [item[0]], 1
        while j + 1 < len(item) and item[j] == ".":
            name.append(item[j + 1])
            j += 2
        if with_values and not (j < len(item) and item[j] == "=" and j + 1 < len(item)) and j != len(item):
            return None
        if not with_values and j != len(item):
            return None
        names.append(".".join(name).lower())
    return names

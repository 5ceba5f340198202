from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule
from migrator.sql.words import dotted_name

_MODES = {
    ("ACCESS", "SHARE"): Lock.ACCESS_SHARE,
    ("ROW", "SHARE"): Lock.ROW_SHARE,
    ("ROW", "EXCLUSIVE"): Lock.ROW_EXCLUSIVE,
    ("SHARE", "UPDATE", "EXCLUSIVE"): Lock.SHARE_UPDATE_EXCLUSIVE,
    ("SHARE",): Lock.SHARE,
    ("SHARE", "ROW", "EXCLUSIVE"): Lock.SHARE_ROW_EXCLUSIVE,
    ("EXCLUSIVE",): Lock.EXCLUSIVE,
    ("ACCESS", "EXCLUSIVE"): Lock.ACCESS_EXCLUSIVE,
}


class LockTable(Rule):
    """Explicit LOCK TABLE.

    ## What it does
    Classifies `LOCK [TABLE] [ONLY] name [, ...] [IN mode MODE] [NOWAIT]` as
    phase `none` (it changes nothing) and reports the lock it takes: a
    warning from SHARE up (it blocks blue's writes until COMMIT), info below.
    Without `IN ... MODE` the mode is ACCESS EXCLUSIVE.

    ## Why is this bad?
    The lock is held until the transaction ends: everything the migration
    does afterwards runs with blue's writes (or reads) blocked, and the
    request itself queues behind long-running queries.

    ## Use instead
    Take the weakest lock that works, as late as possible, with
    `SET lock_timeout` (or `NOWAIT`) so the request cannot queue for long,
    and keep the transaction short.
    """

    id, name, phase, severity = "N406", "lock-table", Phase.NONE, Severity.WARNING
    commands = (("LOCK",),)
    fix = "SET lock_timeout first, take the weakest mode that works, and commit quickly"

    def check(self, stmt, ctx):
        words = stmt.words
        i = 2 if words[1:2] == ("TABLE",) else 1
        if words[i : i + 1] == ("ONLY",):
            i += 1
        tables = []
        while i < len(words):
            name, i = dotted_name(words, i)
            if name is None:
                return
            tables.append(name)
            if words[i : i + 1] != (",",):
                break
            i += 1
        mode = Lock.ACCESS_EXCLUSIVE
        if words[i : i + 1] == ("IN",):
            end = words.index("MODE", i) if "MODE" in words[i:] else -1
            mode = _MODES.get(words[i + 1 : end]) if end > i else None
            if mode is None:
                return
            i = end + 1
        if words[i : i + 1] == ("NOWAIT",):
            i += 1
        if i != len(words) or not tables:
            return
        severity = Severity.WARNING if mode >= Lock.SHARE else Severity.INFO
        yield self.hit(f"locks {', '.join(tables)} in {mode.label} mode until the transaction ends",
                       table=tables[0], lock=mode, severity=severity)

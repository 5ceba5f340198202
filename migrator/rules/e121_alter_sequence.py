from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule
from migrator.sql.words import alter_target, dotted_name

_WIDE_TYPES = {"BIGINT", "INT8"}
_NARROW_TYPES = {"INTEGER", "INT", "INT4", "SMALLINT", "INT2"}


class AlterSequence(Rule):
    """Alter sequence options.

    ## What it does
    Classifies `ALTER SEQUENCE` option changes (sqlglot cannot parse them;
    read from tokens). Harmless ones are expand (info): `OWNED BY`, `CACHE`,
    a positive `INCREMENT`, `START WITH` (used by a later `RESTART`),
    `NO MINVALUE` / `NO MAXVALUE`, `NO CYCLE`, `AS bigint`. Ones that can make
    `nextval` return a value already used, or fail, are contract (warning):
    `RESTART`, a negative `INCREMENT`, `MINVALUE n` / `MAXVALUE n` (a limit
    below the current value), `CYCLE`, `AS integer/smallint`. Renames and
    `SET SCHEMA` are C328; other forms stay unclassified.

    ## Why is this bad?
    Blue's inserts take their keys from the sequence. A restarted, reversed
    or cycling sequence hands out keys that exist (duplicate key errors); a
    lowered maximum makes `nextval` fail. `ALTER SEQUENCE` also holds a SHARE
    ROW EXCLUSIVE lock on the sequence until commit, blocking `nextval`.

    ## Use instead
    Move a sequence forward only, with `SELECT setval('seq', (SELECT max(id)
    FROM t))`; widen it with `AS bigint` (after the column is bigint); keep
    the statement in a short transaction.
    """

    id, name, phase, severity = "E121", "alter-sequence", Phase.EXPAND, Severity.INFO
    lock = Lock.SHARE_ROW_EXCLUSIVE
    commands = (("ALTER", "SEQUENCE"),)
    fix = "only move the sequence forward (setval to max(id)); keep the transaction short"

    def check(self, stmt, ctx):
        words = stmt.words
        name, i = alter_target(words)
        if name is None or i >= len(words):
            return
        safe, risky = [], []
        while i < len(words):
            w = words[i]
            nxt = words[i + 1] if i + 1 < len(words) else None
            if w == "AS" and nxt in _WIDE_TYPES:
                safe.append("AS bigint")
                i += 2
            elif w == "AS" and nxt in _NARROW_TYPES:
                risky.append(f"AS {nxt.lower()} lowers the maximum")
                i += 2
            elif w == "INCREMENT":
                i += 1 + (nxt == "BY")
                negative = words[i : i + 1] == ("-",)
                i += negative
                if not _number(words, i):
                    return
                (risky.append("a negative INCREMENT goes back over used values") if negative
                 else safe.append("INCREMENT"))
                i += 1
            elif w in ("MINVALUE", "MAXVALUE"):
                i += 1 + (nxt == "-")
                if not _number(words, i):
                    return
                risky.append(f"{w} may sit on the wrong side of the current value")
                i += 1
            elif w == "NO" and nxt in ("MINVALUE", "MAXVALUE", "CYCLE"):
                safe.append(f"NO {nxt}")
                i += 2
            elif w == "CYCLE":
                risky.append("CYCLE wraps around to used values")
                i += 1
            elif w == "START":
                i += 1 + (nxt == "WITH")
                i += words[i : i + 1] == ("-",)
                if not _number(words, i):
                    return
                safe.append("START")
                i += 1
            elif w == "RESTART":
                i += 1
                if words[i : i + 1] == ("WITH",):
                    i += 1
                i += words[i : i + 1] == ("-",)
                if _number(words, i):
                    i += 1
                risky.append("RESTART hands out values again that are already used")
            elif w == "CACHE":
                if not _number(words, i + 1):
                    return
                safe.append("CACHE")
                i += 2
            elif w == "OWNED" and nxt == "BY":
                owner, i = dotted_name(words, i + 2)
                if owner is None:
                    return
                safe.append("OWNED BY")
            else:
                return  # a form this rule does not understand stays unclassified
        if risky:
            yield self.hit(f"alters sequence {name}: {'; '.join(risky)}: blue's inserts may get duplicate keys or "
                           "fail", table=name, phase=Phase.CONTRACT, severity=Severity.WARNING)
        elif safe:
            yield self.hit(f"alters sequence {name} ({', '.join(safe)})", table=name, fix="")


def _number(words, i) -> bool:
    return i < len(words) and words[i].replace(".", "", 1).isdigit()

from migrator.phases import Phase, Severity
from migrator.rules._base import Rule
from migrator.sql.words import alter_target


class EnumAddValue(Rule):
    """Add enum value.

    ## What it does
    Finds `ALTER TYPE ... ADD VALUE` (sqlglot cannot parse it; read from
    tokens): an additive change (expand). Without `BEFORE`/`AFTER` it is a
    warning, since the value is appended and the type's sort order then
    depends on the order migrations ran in; with them it is info. (Before
    PostgreSQL 12 it cannot run inside a transaction block at all: P506.)

    ## Why is this bad?
    Blue never writes the new value, but it may read it once green does: code
    that maps the enum to a fixed set of labels must accept unknown values.
    The new value cannot be used in the transaction that added it, so a
    backfill in the same migration fails.

    ## Use instead
    Add the value in its own expand migration with an explicit position
    (`ADD VALUE IF NOT EXISTS 'x' AFTER 'y'`), commit, and start writing it
    only after blue tolerates it.
    """

    id, name, phase, severity = "E113", "enum-add-value", Phase.EXPAND, Severity.WARNING
    commands = (("ALTER", "TYPE"),)
    fix = "ADD VALUE IF NOT EXISTS 'x' BEFORE/AFTER 'y' in its own migration; use the value only after commit"

    def check(self, stmt, ctx):
        words = stmt.words
        name, i = alter_target(words)
        if name is None or words[i : i + 2] != ("ADD", "VALUE"):
            return
        i += 2
        if words[i : i + 3] == ("IF", "NOT", "EXISTS"):
            i += 3
        if i >= len(words) or not words[i].startswith("'"):
            return
        value = words[i]
        rest = words[i + 1 :]
        if rest and not (len(rest) == 2 and rest[0] in ("BEFORE", "AFTER") and rest[1].startswith("'")):
            return
        if rest:
            yield self.hit(f"adds value {value} to type {name} {rest[0]} {rest[1]}; usable after commit",
                           severity=Severity.INFO)
        else:
            yield self.hit(f"appends value {value} to type {name} without BEFORE/AFTER: its sort position "
                           "depends on the order migrations ran in")

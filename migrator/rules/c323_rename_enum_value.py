from migrator.phases import Phase, Severity
from migrator.rules._base import Rule
from migrator.sql.words import alter_target


class RenameEnumValue(Rule):
    """Rename enum value.

    ## What it does
    Finds `ALTER TYPE ... RENAME VALUE 'old' TO 'new'` (sqlglot cannot parse
    it; read from tokens).

    ## Why is this bad?
    Every stored row switches to the new label at once. Blue still writes and
    compares the old label: its INSERTs and UPDATEs fail with "invalid input
    value for enum", and its `WHERE status = 'old'` no longer matches.

    ## Use instead
    Add the new value (`ADD VALUE`, expand), make green write the new label
    and accept both, backfill the rows (migrate), and stop using the old
    label; an enum value cannot be dropped, so it stays unused (or the type
    is replaced in a later contract step).
    """

    id, name, phase, severity = "C323", "rename-enum-value", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write or compare the old value"
    commands = (("ALTER", "TYPE"),)
    fix = "ADD VALUE the new label, switch the app to it, backfill rows, and leave the old label unused"

    def check(self, stmt, ctx):
        words = stmt.words
        name, i = alter_target(words)
        if name is None or words[i : i + 2] != ("RENAME", "VALUE") or len(words) != i + 5 or words[i + 3] != "TO":
            return
        yield self.hit(f"renames value {words[i + 2]} of type {name} to {words[i + 4]}: blue still writes and "
                       "compares the old label")

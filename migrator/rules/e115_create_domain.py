from migrator.phases import Phase, Severity
from migrator.rules._base import Rule
from migrator.sql.words import dotted_name


class CreateDomain(Rule):
    """Create domain.

    ## What it does
    Finds `CREATE DOMAIN` (sqlglot cannot parse it; read from tokens): a new
    type (expand). With a `CHECK` constraint it is a warning, otherwise info.

    ## Why is this bad?
    Creating it is harmless. But a domain's constraint applies to every
    column of that type in every table: changing it later
    (`ALTER DOMAIN ... ADD CONSTRAINT`, C324) rescans all those tables while
    writes to them are blocked, and there is no per-table `NOT VALID` step.

    ## Use instead
    A plain base type with a `CHECK` constraint on each column (added
    `NOT VALID` and validated separately), which can be changed table by
    table.
    """

    id, name, phase, severity = "E115", "create-domain-with-check", Phase.EXPAND, Severity.INFO
    commands = (("CREATE", "DOMAIN"),)
    fix = "prefer a base type with a per-column CHECK constraint; it can be changed one table at a time"

    def check(self, stmt, ctx):
        words = stmt.words
        name, _ = dotted_name(words, 2)
        if name is None:
            return
        if "CHECK" in words:
            yield self.hit(f"creates domain {name} with a CHECK constraint: changing it later rescans every "
                           "table that uses it", severity=Severity.WARNING)
        else:
            yield self.hit(f"creates domain {name}")

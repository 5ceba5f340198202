from migrator.phases import Phase, Severity
from migrator.rules._base import Rule


class DeclaredPhaseMismatch(Rule):
    """Declared phase disagrees with the classification.

    ## What it does
    `migrator lint` compares the phase a revision declares (alembic branch
    label `expand` / `migrate` / `contract`, a module-level `phase = "..."`,
    or `-- migrator: phase expand` in a SQL file) with the phase its
    statements classify as, and reports the difference.

    ## Why is this bad?
    The release pipeline runs revisions by their declared phase. A revision
    declared `expand` that drops a column runs while blue is still serving
    and breaks it; one declared `contract` that only adds a column delays
    green for nothing.

    ## Use instead
    Move the statements into a revision of the right phase, or correct the
    declaration. A reviewed exception takes
    `# migrator: ignore P507 reason: ...` in the revision file.
    """

    id, name, phase, severity = "P507", "declared-phase-mismatch", Phase.NONE, Severity.ERROR
    classifies = False

    def check(self, stmt, ctx):
        return ()

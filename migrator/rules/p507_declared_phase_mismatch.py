from migrator.phases import Phase, Severity
from migrator.rules._base import LINT, Hit, Migration, MigrationRule
from migrator.rules.u000_unclassified import Unclassified


class DeclaredPhaseMismatch(MigrationRule):
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
    stage = LINT

    def check_migration(self, migration: Migration):
        report = migration.report
        declared = report.declared_phase
        if declared is None or report.error:
            return
        if any(f.rule == Unclassified.id for f in report.findings):
            return  # nothing was classified; the U000 finding says why
        actual = report.phase
        if actual is Phase.NONE or actual == declared:
            return
        if any(f.rule == self.id for f in report.findings):
            return  # reported already (lint and compat's plan may both ask)
        mixed = " (mixed)" if report.mixed else ""
        if actual > declared:
            message = (f"declared {declared.label}, but its statements are {actual.label}{mixed}: "
                       f"it would run before it is safe to")
        else:
            message = f"declared {declared.label}, but classified {actual.label}: it could run in an earlier phase"
        yield self.hit(message, fix=f"move the change to a {actual.label} revision, or fix the declared phase")

    def invalid(self, error: str) -> Hit:
        """An invalid declaration (`phase = "expnad"`, two different phases): `error` says what is wrong."""
        return self.hit(error, fix="declare exactly one of expand, migrate or contract")

from migrator.phases import Phase, Severity
from migrator.rules._base import Migration, MigrationRule

# the finding's fix (not the class's `fix`: the docs page says it in "Use instead")
SPLIT = ("split it into one revision per phase: expand (additive DDL), migrate (data), contract (destructive DDL), "
         "and apply each at its own step of the release")


class MixedMigration(MigrationRule):
    """Migration mixes phases.

    ## What it does
    Reports a migration whose statements belong to more than one phase: schema
    expansion together with contraction, or a schema change together with a
    data change (backfill). The engine adds this finding to the migration.

    ## Why is this bad?
    Each phase runs at a different point of a blue-green release: expand
    before green starts, migrate while both run, contract after blue is gone.
    A mixed migration can only run at the latest of its phases, so its
    expansion comes too late for green or its contraction too early for blue,
    and a long backfill holds the DDL's locks.

    ## Use instead
    Split it into one revision per phase, e.g. `ADD COLUMN` (expand), a
    batched `UPDATE` (migrate), `SET NOT NULL` / `DROP COLUMN` (contract).
    """

    id, name, phase, severity = "P505", "mixed-migration", Phase.NONE, Severity.WARNING
    statement_comment_covers = True  # the comment usually stands at the statement that makes it mixed

    def check_migration(self, migration: Migration):
        if migration.report.mixed:  # the engine sets it from the phases (report.phase, report.mixed)
            parts = " + ".join(p.label for p in sorted(migration.phases) if p is not Phase.NONE)
            yield self.hit(f"migration mixes {parts}", fix=SPLIT)

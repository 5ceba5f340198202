from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._base import Rule
from migrator.sql.words import alter_target


class AlterDomainAddConstraint(Rule):
    """Alter domain constraints and defaults.

    ## What it does
    Finds `ALTER DOMAIN` changes to constraints and defaults (sqlglot cannot
    parse them; read from tokens):

    - `ADD [CONSTRAINT c] CHECK (...)` / `ADD NOT NULL` and `SET NOT NULL`:
      contract, error. Every column of the domain, in every table, is scanned
      under a SHARE lock (writes blocked). With `NOT VALID`: contract,
      warning (no scan, new values are checked).
    - `VALIDATE CONSTRAINT`: migrate, warning (the scan still holds SHARE).
    - `DROP CONSTRAINT`, `DROP DEFAULT`: contract, warning.
    - `DROP NOT NULL`, `SET DEFAULT`: expand, info.

    Renames and `SET SCHEMA` are C328; other forms stay unclassified.

    ## Why is this bad?
    A new restriction rejects values blue still writes, and its validation
    blocks writes to every table using the domain at once. Dropping a
    constraint or default removes behaviour blue may rely on.

    ## Use instead
    Add the constraint `NOT VALID` once green writes only valid values
    (contract), fix old rows (migrate), then `VALIDATE CONSTRAINT` at a quiet
    time; or use per-column `CHECK` constraints on a base type instead.
    """

    id, name, phase, severity = "C324", "alter-domain-add-constraint", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may write values that violate it"
    lock = Lock.SHARE
    rewrite = Rewrite.SCAN
    commands = (("ALTER", "DOMAIN"),)
    fix = "ADD CONSTRAINT ... NOT VALID, fix old rows, then VALIDATE CONSTRAINT separately"

    def check(self, stmt, ctx):
        words = stmt.words
        name, i = alter_target(words)
        if name is None:
            return
        action = words[i:]
        if action[:1] == ("ADD",):
            not_valid = action[-2:] == ("NOT", "VALID")
            if not ("CHECK" in action or action[-2:] == ("NOT", "NULL")):
                return
            if not_valid:
                yield self.hit(f"adds a NOT VALID constraint to domain {name}: blue's new values that violate it "
                               "are rejected; existing rows are not checked", severity=Severity.WARNING, lock=None,
                               rewrite=Rewrite.NONE, fix="VALIDATE CONSTRAINT after fixing old rows")
            else:
                yield self.hit(f"adds a constraint to domain {name}: every column of that type is scanned while "
                               "writes to its tables are blocked, and blue's violating writes fail")
        elif action == ("SET", "NOT", "NULL"):
            yield self.hit(f"sets NOT NULL on domain {name}: every column of that type is scanned while writes to "
                           "its tables are blocked, and blue's NULL writes fail")
        elif action[:2] == ("VALIDATE", "CONSTRAINT") and len(action) == 3:
            yield self.hit(f"validates constraint {action[2].lower()} of domain {name}: scans every column of that "
                           "type while writes to its tables are blocked (SHARE)", phase=Phase.MIGRATE,
                           severity=Severity.WARNING, fix="run it at a quiet time, in its own transaction")
        elif action[:2] == ("DROP", "CONSTRAINT"):
            yield self.hit(f"drops a constraint of domain {name}: values blue relied on being rejected are "
                           "accepted", severity=Severity.WARNING, lock=None, rewrite=Rewrite.NONE,
                           fix="drop it in the contract phase once no code relies on it")
        elif action == ("DROP", "DEFAULT"):
            yield self.hit(f"drops the default of domain {name}: blue's INSERTs that omit such columns get NULL "
                           "(or fail)", severity=Severity.WARNING, lock=None, rewrite=Rewrite.NONE,
                           fix="drop it in the contract phase once every INSERT sets the column")
        elif action == ("DROP", "NOT", "NULL"):
            yield self.hit(f"drops NOT NULL from domain {name}: readers may now see NULL", phase=Phase.EXPAND,
                           severity=Severity.INFO, lock=None, rewrite=Rewrite.NONE, fix="")
        elif action[:2] == ("SET", "DEFAULT"):
            yield self.hit(f"sets the default of domain {name}", phase=Phase.EXPAND, severity=Severity.INFO,
                           lock=None, rewrite=Rewrite.NONE, fix="")

from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, new_table

_TAIL = {(), ("CASCADE",), ("RESTRICT",)}


class DropConstraint(AlterTableRule):
    """Drop a constraint.

    ## What it does
    Finds `ALTER TABLE ... DROP CONSTRAINT [IF EXISTS] name [CASCADE |
    RESTRICT]`. Catalog-only (a UNIQUE or PRIMARY KEY constraint also drops
    its index), brief ACCESS EXCLUSIVE lock.

    ## Why is this bad?
    Integrity that blue relies on is gone: duplicates, orphans or invalid
    values can now be written, and a dropped unique index can make blue's
    `ON CONFLICT` fail or its queries slow. `CASCADE` also drops dependent
    foreign keys.

    ## Use instead
    Drop it in the contract phase, once the application enforces the rule
    itself or no longer needs it.
    """

    id, name, phase, severity = "C313", "drop-constraint", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may rely on the constraint"
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "drop it in the contract phase, after the application no longer relies on it"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            words = action.words
            if words[:2] != ("DROP", "CONSTRAINT"):
                continue
            i = 4 if words[2:4] == ("IF", "EXISTS") else 2
            if i >= len(words) or tuple(words[i + 1:]) not in _TAIL:
                continue
            node = action.node
            if node is not None and not (isinstance(node, exp.Drop)
                                         and (node.args.get("kind") or "").upper() == "CONSTRAINT"):
                continue
            cascade = " with CASCADE (dependent foreign keys go too)" if words[-1:] == ("CASCADE",) else ""
            yield self.hit(f"drops constraint {action.text(i)} of {alter.table}{cascade}: blue may rely on it",
                           table=alter.table, action=action.index, **new_table(ctx, alter.table))

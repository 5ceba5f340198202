from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_name
from migrator.rules._objects import name_list


class Truncate(Rule):
    """Truncate.

    ## What it does
    Finds `TRUNCATE`: it deletes every row of the listed tables (contract,
    warning) under an ACCESS EXCLUSIVE lock. With `CASCADE`, which also
    empties every table that references them by foreign key, it is an error.
    Emptying tables created earlier in the same migration is only classified.

    ## Why is this bad?
    Blue's data is gone at once and cannot be recovered without a restore;
    `CASCADE` reaches tables the migration does not even name.

    ## Use instead
    If the data really must go: name every table explicitly, no `CASCADE`,
    in the contract phase after blue is gone. To clear a large table while
    it is in use, delete in batches instead.
    """

    id, name, phase, severity = "C319", "truncate", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may need its rows"
    lock = Lock.ACCESS_EXCLUSIVE
    nodes = (exp.TruncateTable,)
    commands = (("TRUNCATE",),)
    fix = "list every table explicitly without CASCADE, in the contract phase; or delete in batches"

    def check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.TruncateTable):
            names = [table_name(t) for t in node.expressions]
            cascade = (node.args.get("option") or "").upper() == "CASCADE"
        elif stmt.is_command:
            words = stmt.words
            i = 1 + (words[1:2] == ("TABLE",))
            if words[i : i + 1] == ("ONLY",):
                i += 1
            names, end = name_list(words, i)
            rest = words[end:]
            if any(w not in ("RESTART", "CONTINUE", "IDENTITY", "CASCADE", "RESTRICT") for w in rest):
                return
            cascade = "CASCADE" in rest
        else:
            return
        names = [n for n in names if n]
        if not names:
            return
        label = ", ".join(names)
        if not cascade and all(ctx.is_new_table(n) for n in names):
            yield self.hit(f"empties {label}, created in this migration", table=names[0], phase=Phase.EXPAND,
                           severity=None)
        elif cascade:
            yield self.hit(f"empties {label} and, through CASCADE, every table referencing them by foreign key",
                           table=names[0], severity=Severity.ERROR)
        else:
            yield self.hit(f"deletes every row of {label}", table=names[0])

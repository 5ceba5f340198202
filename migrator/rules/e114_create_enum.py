from sqlglot import exp

from migrator.phases import Phase, Severity
from migrator.rules._base import Rule, table_name
from migrator.sql.words import dotted_name


class CreateEnum(Rule):
    """Create enum type.

    ## What it does
    Finds `CREATE TYPE ... AS ENUM (...)`: a new object (expand, info).

    ## Why is this bad?
    It is safe to create, but an enum is hard to evolve: values can be added
    (not inside the transaction that uses them before PostgreSQL 12) but not
    removed or reordered, and renaming a value breaks the running app
    (C323).

    ## Use instead
    For value sets that change, a lookup table with a foreign key, or a
    `text` column with a `CHECK` constraint added `NOT VALID`.
    """

    id, name, phase, severity = "E114", "create-enum", Phase.EXPAND, Severity.INFO
    nodes = (exp.Create,)
    commands = (("CREATE", "TYPE"),)
    fix = "consider a lookup table or text with a CHECK constraint for value sets that will change"

    def check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.Create):
            if (node.args.get("kind") or "").upper() != "TYPE":
                return
            expression = node.args.get("expression")
            if not (isinstance(expression, exp.DataType) and expression.this == exp.DataType.Type.ENUM):
                return
            name = table_name(node.this)
        elif stmt.is_command:
            name, i = dotted_name(stmt.words, 2)
            if stmt.words[i : i + 2] != ("AS", "ENUM"):
                return
        else:
            return
        yield self.hit(f"creates enum type {name}: values can be added later but not removed or renamed safely")

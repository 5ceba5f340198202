from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_name
from migrator.rules._objects import create_kind
from migrator.sql.words import dotted_name, find


class CreateTrigger(Rule):
    """Create trigger.

    ## What it does
    Finds `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER`: new behaviour on a table
    (expand, info). It takes a SHARE ROW EXCLUSIVE lock on the table, which
    blocks writes while it waits for running transactions.

    ## Why is this bad?
    Usually it is the expand step of a dual write (copy a column into its
    replacement while blue writes the old one). But the trigger runs inside
    blue's writes: one that raises an error rejects them, a slow one slows
    them, and `OR REPLACE` changes what an existing trigger does for blue at
    once.

    ## Use instead
    Set `lock_timeout` first; keep the function small and free of errors for
    rows blue writes; test it with the old application's writes.
    """

    id, name, phase, severity = "E117", "create-trigger", Phase.EXPAND, Severity.INFO
    lock = Lock.SHARE_ROW_EXCLUSIVE
    nodes = (exp.Create,)
    commands = (("CREATE", "TRIGGER"), ("CREATE", "CONSTRAINT", "TRIGGER"), ("CREATE", "OR", "REPLACE"))
    fix = "SET lock_timeout first; make sure the trigger never rejects or slows blue's writes"

    def check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.Create):
            if (node.args.get("kind") or "").upper() != "TRIGGER":
                return
            name = node.this.name if isinstance(node.this, exp.Expr) else None
            props = node.args.get("properties")
            trigger = props.find(exp.TriggerProperties) if isinstance(props, exp.Properties) else None
            table = table_name(trigger.args.get("table")) if trigger is not None else None
            replace = bool(node.args.get("replace"))
        elif stmt.is_command:
            words = stmt.words
            kind, i, modifiers = create_kind(words)
            if kind != "TRIGGER":
                return
            name = words[i].lower() if i < len(words) else None
            on = find(words, "ON", start=i)
            table = dotted_name(words, on + 1)[0] if on >= 0 else None
            replace = "REPLACE" in modifiers
        else:
            return
        if not table:
            return
        verb = "creates or replaces" if replace else "creates"
        yield self.hit(f"{verb} trigger {name} on {table}: runs inside blue's writes; SHARE ROW EXCLUSIVE lock "
                       "blocks writes briefly", table=table)

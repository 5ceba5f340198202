from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_name
from migrator.rules._objects import object_kind, skip_if_exists, skip_parens
from migrator.sql.words import dotted_name

_KINDS = {"VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FUNCTION", "PROCEDURE", "ROUTINE", "AGGREGATE", "TYPE",
          "SCHEMA", "DOMAIN", "FOREIGN TABLE"}
_RELATIONS = {"VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FOREIGN TABLE"}
# SET SCHEMA of the other kinds is C322
_SET_SCHEMA_HERE = {"ROUTINE", "AGGREGATE"}


class RenameObject(Rule):
    """Rename or move a schema object other than a table or index.

    ## What it does
    Finds `ALTER VIEW / MATERIALIZED VIEW / SEQUENCE / FUNCTION / PROCEDURE /
    TYPE / SCHEMA / DOMAIN / FOREIGN TABLE ... RENAME TO`, `RENAME [COLUMN]`,
    `RENAME ATTRIBUTE` (contract, error), `ALTER ROUTINE / AGGREGATE ...
    SET SCHEMA` (other objects' `SET SCHEMA` is C322), and
    `ALTER DOMAIN ... RENAME CONSTRAINT` (contract, warning). Index renames
    are N405, enum value renames C323.

    ## Why is this bad?
    Blue still uses the old name: its queries, calls and casts fail the
    moment the rename commits. There is no moment at which both names work.

    ## Use instead
    Create the object under the new name (a view or function can wrap the old
    one), move green to it, and drop the old name in the contract phase after
    blue is gone.
    """

    id, name, phase, severity = "C328", "rename-object", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may use the old name"
    nodes = (exp.Alter,)
    commands = (("ALTER",),)
    fix = "create the new name alongside the old (expand), move green to it, drop the old name after blue is gone"

    def check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.Alter):
            if (node.args.get("kind") or "").upper() != "VIEW":
                return
            name = table_name(node.this)
            for i, action in enumerate(node.args.get("actions") or []):
                if isinstance(action, exp.AlterRename):
                    yield self.hit(f"renames view {name} to {table_name(action.this)}: blue still uses the old name",
                                   table=name, action=i, lock=Lock.ACCESS_EXCLUSIVE)
                elif isinstance(action, exp.RenameColumn):
                    yield self.hit(f"renames column {action.this.name} of view {name} to "
                                   f"{action.args['to'].name if action.args.get('to') else '?'}: blue still selects "
                                   "the old name", table=name, action=i, lock=Lock.ACCESS_EXCLUSIVE)
            return
        if not stmt.is_command:
            return
        words = stmt.words
        kind, i = object_kind(words, 1)
        if kind not in _KINDS:
            return
        name, i = dotted_name(words, skip_if_exists(words, i))
        if name is None:
            return
        i = skip_parens(words, i)
        action = words[i:]
        if action[-1:] in (("CASCADE",), ("RESTRICT",)) and action[:2] == ("RENAME", "ATTRIBUTE"):
            action = action[:-1]
        lock = Lock.ACCESS_EXCLUSIVE if kind in _RELATIONS else None
        table = name if kind in _RELATIONS else None
        what = f"{kind.lower()} {name}"
        if len(action) == 3 and action[:2] == ("RENAME", "TO"):
            yield self.hit(f"renames {what} to {action[2].lower()}: blue still uses the old name", table=table,
                           lock=lock)
        elif len(action) == 3 and action[:2] == ("SET", "SCHEMA") and kind in _SET_SCHEMA_HERE:
            yield self.hit(f"moves {what} to schema {action[2].lower()}: blue's qualified and search_path lookups "
                           "of the old location fail", table=table, lock=lock)
        elif action[:1] == ("RENAME",) and action[-2:-1] == ("TO",) and len(action) in (4, 5):
            sub = action[1] if len(action) == 5 else "COLUMN"
            if sub == "VALUE":
                return  # C323
            if sub == "CONSTRAINT" and kind == "DOMAIN":
                yield self.hit(f"renames constraint {action[2].lower()} of {what}: code that matches the constraint "
                               "name in errors sees the new one", severity=Severity.WARNING)
            elif sub == "COLUMN" and kind in ("VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE") or (
                    sub == "ATTRIBUTE" and kind == "TYPE"):
                old = action[-3].lower()
                yield self.hit(f"renames {sub.lower()} {old} of {what} to {action[-1].lower()}: blue still uses the "
                               "old name", table=table, lock=lock)

from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_name
from migrator.rules._objects import name_list, object_kind, skip_if_exists
from migrator.sql.words import dotted_name, find

# object kinds this rule understands (DROP TABLE is C316, DROP INDEX is C315)
_KINDS = {
    "SCHEMA", "DATABASE", "TYPE", "DOMAIN", "VIEW", "MATERIALIZED VIEW", "FUNCTION", "PROCEDURE", "ROUTINE",
    "AGGREGATE", "TRIGGER", "SEQUENCE", "EXTENSION", "RULE", "OPERATOR", "OPERATOR CLASS",
    "OPERATOR FAMILY", "CAST", "COLLATION", "CONVERSION", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY",
    "TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE", "STATISTICS", "FOREIGN TABLE", "FOREIGN DATA WRAPPER", "SERVER",
    "USER MAPPING", "ROLE", "USER", "GROUP", "OWNED BY", "TABLESPACE", "PUBLICATION", "SUBSCRIPTION",
    "EVENT TRIGGER", "LANGUAGE", "TRANSFORM", "ACCESS METHOD",
}
# kinds whose drop locks a table: the object itself is a relation, or it hangs ON a table
_RELATIONS = {"VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FOREIGN TABLE"}
_ON_TABLE = {"TRIGGER", "RULE"}  # DROP POLICY is C331


class DropObject(Rule):
    """Drop a schema object other than a table, column or index.

    ## What it does
    Finds `DROP SCHEMA / DATABASE / TYPE / DOMAIN / VIEW / MATERIALIZED VIEW /
    FUNCTION / PROCEDURE / TRIGGER / SEQUENCE / EXTENSION / RULE / ...`
    (contract, warning); `DROP POLICY` is C331. With `CASCADE`, which silently drops every
    dependent object (columns of that type, views, defaults, foreign keys),
    and for `DROP DATABASE` it is an error.

    ## Why is this bad?
    Blue may still call the function, select from the view, take values from
    the sequence or rely on the trigger (a dual-write trigger is the classic
    case); it fails, or silently stops doing work, the moment the object is
    gone. The drop takes an ACCESS EXCLUSIVE lock on the object (and on the
    table of a trigger or rule).

    ## Use instead
    Contract phase: stop using the object in green, deploy, wait until blue
    is gone, then drop it without `CASCADE`, dropping dependents explicitly.
    """

    id, name, phase, severity = "C318", "drop-object", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may use it"
    lock = Lock.ACCESS_EXCLUSIVE
    nodes = (exp.Drop,)
    commands = (("DROP",),)
    fix = "drop it in the contract phase, after blue is gone and green no longer uses it; no CASCADE"

    def check(self, stmt, ctx):
        node = stmt.node
        table = None
        if isinstance(node, exp.Drop):
            kind = (node.args.get("kind") or "").upper()
            if kind == "VIEW" and node.args.get("materialized"):
                kind = "MATERIALIZED VIEW"
            if kind not in _KINDS or node.args.get("temporary"):
                return
            names = [table_name(t) for t in node.args.get("tables") or []]
            cascade = bool(node.args.get("cascade"))
            on = node.args.get("cluster")
            if kind in _ON_TABLE and isinstance(on, exp.OnProperty):
                table = table_name(on.this)
        elif stmt.is_command:
            words = stmt.words
            kind, i = object_kind(words, 1)
            if kind not in _KINDS:
                return
            i = skip_if_exists(words, i)
            names, end = name_list(words, i)
            cascade = words[-1] == "CASCADE"
            if kind in _ON_TABLE:
                on = find(words, "ON", start=end)
                if on < 0:
                    return
                table, _ = dotted_name(words, on + 1)
        else:
            return
        names = [n for n in names if n]
        label = f"{kind.lower()} {', '.join(names)}" if names else kind.lower()
        if kind == "OWNED BY":
            label = f"every object owned by {', '.join(names)}"
        if kind in _RELATIONS and names:
            table = names[0]
        where = f" on {table}" if table and kind in _ON_TABLE else ""
        # a function, type, role... is not a table: its lock blocks no query unless CASCADE reaches tables
        lock = Lock.ACCESS_EXCLUSIVE if cascade or kind in _RELATIONS or kind in _ON_TABLE else None
        if cascade:
            yield self.hit(f"drops {label}{where} with CASCADE: every dependent object goes too", table=table,
                           severity=Severity.ERROR, lock=lock)
        elif kind == "DATABASE":
            yield self.hit(f"drops {label}: everything in it is gone", severity=Severity.ERROR, lock=lock)
        else:
            yield self.hit(f"drops {label}{where}: blue may still use it", table=table, lock=lock)

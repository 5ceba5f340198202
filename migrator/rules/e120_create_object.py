from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_name
from migrator.rules._objects import create_kind, skip_if_exists
from migrator.sql.words import dotted_name, find

# CREATE <kind> forms this rule understands (tables, indexes, triggers, enums, domains have their own rules;
# RULE, EVENT TRIGGER, PUBLICATION and SUBSCRIPTION change how existing statements behave and stay unclassified)
_KINDS = {
    "VIEW", "MATERIALIZED VIEW", "FUNCTION", "PROCEDURE", "AGGREGATE", "SEQUENCE", "SCHEMA", "EXTENSION", "CAST",
    "COLLATION", "CONVERSION", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "TEXT SEARCH PARSER",
    "TEXT SEARCH TEMPLATE", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "STATISTICS", "LANGUAGE",
    "TRANSFORM", "ACCESS METHOD", "TYPE", "SERVER", "FOREIGN DATA WRAPPER", "FOREIGN TABLE", "USER MAPPING",
    "ROLE", "USER", "GROUP", "TABLESPACE", "DATABASE", "POLICY",
}
_TYPED_KINDS = {"VIEW", "FUNCTION", "PROCEDURE", "SEQUENCE", "SCHEMA", "DATABASE", "TYPE"}


class CreateObject(Rule):
    """Create a schema object or grant a privilege.

    ## What it does
    Classifies the creation of objects blue does not know about as expand
    (info): `CREATE [OR REPLACE] VIEW / MATERIALIZED VIEW / FUNCTION /
    PROCEDURE / AGGREGATE`, `CREATE SEQUENCE / SCHEMA / EXTENSION / TYPE`
    (composite, range, base; enums are E114) / `CAST / COLLATION / TEXT SEARCH
    ... / OPERATOR / STATISTICS / POLICY / ROLE / ...`, and `GRANT`. A
    `CREATE POLICY ... AS RESTRICTIVE` narrows what blue may see or write and
    is contract (warning). `CREATE OR REPLACE VIEW` is additive (PostgreSQL
    refuses to drop, rename or retype a view's columns that way) but locks
    the view ACCESS EXCLUSIVE.

    ## Why is this bad?
    New objects are safe for blue. Replacing a function, procedure or view
    changes what blue's existing calls and queries do at once, and a
    materialized view runs its whole query to populate itself.

    ## Use instead
    For a changed function or view whose old behaviour blue needs, create it
    under a new name (expand), move green to it, drop the old one (contract).
    """

    id, name, phase, severity = "E120", "create-object", Phase.EXPAND, Severity.INFO
    nodes = (exp.Create, exp.Grant)
    commands = (("CREATE",), ("GRANT",), ("ALTER", "DEFAULT", "PRIVILEGES"))
    fix = ""

    def check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.Grant):
            yield self.hit("grants privileges")
        elif isinstance(node, exp.Create):
            yield from self._typed(node)
        elif stmt.is_command:
            words = stmt.words
            if words[0] == "GRANT":
                yield self.hit("grants privileges")
            elif words[0] == "ALTER":
                if "GRANT" in words and "REVOKE" not in words:
                    yield self.hit("grants default privileges on future objects")
            else:
                yield from self._tokens(words)

    def _typed(self, node):
        kind = (node.args.get("kind") or "").upper()
        if kind not in _TYPED_KINDS:
            return
        if kind == "TYPE":
            expression = node.args.get("expression")
            if isinstance(expression, exp.DataType) and expression.this == exp.DataType.Type.ENUM:
                return  # E114
        props = node.args.get("properties")
        props = props.expressions if isinstance(props, exp.Properties) else []
        if kind == "VIEW" and any(isinstance(p, exp.MaterializedProperty) for p in props):
            kind = "MATERIALIZED VIEW"
        temporary = any(isinstance(p, exp.TemporaryProperty) for p in props)
        target = node.this.this if isinstance(node.this, exp.UserDefinedFunction) else node.this
        yield self._hit(kind, table_name(target), bool(node.args.get("replace")), temporary)

    def _tokens(self, words):
        kind, i, modifiers = create_kind(words)
        if kind not in _KINDS or modifiers & {"UNIQUE", "CONSTRAINT", "UNLOGGED"}:
            return
        if kind == "TYPE" and "ENUM" in words[i:i + 5]:
            return  # E114
        name, end = dotted_name(words, skip_if_exists(words, i))
        if name in ("(", "for") or kind.startswith("OPERATOR"):
            name = None
        if kind == "POLICY":
            on = find(words, "ON", start=end)
            table = dotted_name(words, on + 1)[0] if on >= 0 else None
            if table is None:
                return
            if find(words, "AS", "RESTRICTIVE") >= 0:
                yield self.hit(f"creates restrictive policy {name} on {table}: rows blue could see or write may "
                               "now be refused", table=table, phase=Phase.CONTRACT, severity=Severity.WARNING,
                               lock=Lock.ACCESS_EXCLUSIVE,
                               fix="make sure blue's queries satisfy the policy before it is created")
            else:
                yield self.hit(f"creates permissive policy {name} on {table}: it can only admit more rows, never "
                               f"fewer (ACCESS EXCLUSIVE on {table} briefly)",
                               table=table, lock=Lock.ACCESS_EXCLUSIVE)
            return
        if kind == "STATISTICS":
            at = find(words, "FROM", start=end)
            table = dotted_name(words, at + 1)[0] if at >= 0 else None
            yield self.hit(f"creates statistics {name}" + (f" on {table}" if table else ""), table=table,
                           lock=Lock.SHARE_UPDATE_EXCLUSIVE if table else None)
            return
        yield self._hit(kind, name, "REPLACE" in modifiers, bool(modifiers & {"TEMP", "TEMPORARY"}),
                        populated=words[-3:] != ("WITH", "NO", "DATA"))

    def _hit(self, kind, name, replace, temporary, populated=True):
        what = f"{kind.lower()} {name}" if name else kind.lower()
        if temporary:
            return self.hit(f"creates temporary {what}", phase=Phase.NONE, severity=None)
        if replace and kind == "VIEW":
            return self.hit(f"creates or replaces {what}: existing columns keep their names and types; blue's "
                            f"queries see the new definition at once (ACCESS EXCLUSIVE on {name} briefly)",
                            table=name, lock=Lock.ACCESS_EXCLUSIVE)
        if replace:
            return self.hit(f"creates or replaces {what}: blue's calls run the new definition at once")
        if kind == "MATERIALIZED VIEW" and populated:
            return self.hit(f"creates {what}: runs its query to populate it")
        return self.hit(f"creates {what}")

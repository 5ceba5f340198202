from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule, alter_table, never_raise, new_table
from migrator.sql.words import alter_target

_KINDS = {("TABLE",), ("VIEW",), ("MATERIALIZED", "VIEW"), ("SEQUENCE",), ("TYPE",), ("DOMAIN",), ("FUNCTION",),
          ("PROCEDURE",), ("FOREIGN", "TABLE")}


class SetSchema(AlterTableRule):
    """Move an object to another schema.

    ## What it does
    Finds `ALTER TABLE | VIEW | MATERIALIZED VIEW | SEQUENCE | TYPE | DOMAIN |
    FUNCTION | PROCEDURE ... SET SCHEMA s` (sqlglot cannot parse it; read from
    tokens).

    ## Why is this bad?
    The object's qualified name changes: blue's schema-qualified references
    fail, and unqualified ones resolve differently (or not at all) depending
    on `search_path`.

    ## Use instead
    Create the object in the new schema and keep the old name working (a view
    or a wrapper function) until blue is gone, or move it in the contract
    phase.
    """

    id, name, phase, severity = "C322", "set-schema", Phase.CONTRACT, Severity.ERROR
    contract_precondition = "no running code may use the old schema"
    lock = Lock.ACCESS_EXCLUSIVE
    commands = tuple(("ALTER",) + k for k in _KINDS)
    fix = "keep the old qualified name working (view or wrapper) until blue is gone, or move it in the contract phase"

    def check(self, stmt, ctx):
        return never_raise(self, self._check(stmt, ctx))

    def _check(self, stmt, ctx):
        alter = alter_table(stmt)
        if alter is not None:
            for action in alter.actions:
                if action.words[:2] == ("SET", "SCHEMA") and len(action.words) == 3:
                    yield self.hit(f"moves table {alter.table} to schema {action.text(2)}: blue's references to "
                                   f"{alter.table} break", table=alter.table, action=action.index,
                                   **new_table(ctx, alter.table))
            return
        words = stmt.words
        if not stmt.is_command or words[:2] == ("ALTER", "TABLE"):
            return
        kind = words[1:3] if words[1:3] in (("MATERIALIZED", "VIEW"), ("FOREIGN", "TABLE")) else words[1:2]
        if tuple(kind) not in _KINDS:
            return
        name, i = alter_target(words)
        if name is None:
            return
        if kind in (("FUNCTION",), ("PROCEDURE",)) and words[i:i + 1] == ("(",):
            depth = 0
            for j in range(i, len(words)):
                depth += words[j] == "("
                depth -= words[j] == ")"
                if depth == 0:
                    i = j + 1
                    break
        if words[i:i + 2] == ("SET", "SCHEMA") and len(words) == i + 3:
            what = " ".join(kind).lower()
            yield self.hit(f"moves {what} {name} to schema {stmt.tokens[i + 2].text}: blue's references to {name} "
                           "break", table=name)

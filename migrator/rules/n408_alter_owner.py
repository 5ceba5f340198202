from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule
from migrator.rules._objects import object_kind, skip_if_exists, skip_parens
from migrator.sql.words import dotted_name

# ALTER <kind> name OWNER TO role; ALTER TABLE ... OWNER TO is N403
_KINDS = {"VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FUNCTION", "PROCEDURE", "ROUTINE", "AGGREGATE", "TYPE",
          "SCHEMA", "DOMAIN", "FOREIGN TABLE", "INDEX", "DATABASE", "COLLATION", "CONVERSION", "EXTENSION",
          "LANGUAGE", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "STATISTICS", "TABLESPACE", "SERVER",
          "FOREIGN DATA WRAPPER", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "PUBLICATION",
          "SUBSCRIPTION", "EVENT TRIGGER", "LARGE"}
_RELATIONS = {"VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FOREIGN TABLE"}


class AlterOwner(Rule):
    """Change the owner of a schema object.

    ## What it does
    Classifies `ALTER VIEW / MATERIALIZED VIEW / SEQUENCE / FUNCTION /
    PROCEDURE / TYPE / SCHEMA / DOMAIN / ... name OWNER TO role` as phase
    `none` (info): no schema or data change. (`ALTER TABLE ... OWNER TO` is
    N403.) On a view, sequence or foreign table it takes ACCESS EXCLUSIVE
    for a moment.

    ## Why is this bad?
    Usually it is not. If blue's role owned the object, it loses the owner's
    implicit privileges (and, for a table with row level security, its
    exemption from the policies); a view's and a `SECURITY DEFINER`
    function's privilege checks now run as the new owner.

    ## Use instead
    Grant blue's role what it needs before the ownership moves.
    """

    id, name, phase, severity = "N408", "alter-owner", Phase.NONE, Severity.INFO
    commands = (("ALTER",),)
    fix = ""

    def check(self, stmt, ctx):
        words = stmt.words
        if len(words) < 5 or words[-3:-1] != ("OWNER", "TO"):
            return
        kind, i = object_kind(words, 1)
        if kind == "LARGE":
            i += 1  # LARGE OBJECT oid
        if kind not in _KINDS:
            return
        name, i = dotted_name(words, skip_if_exists(words, i))
        if name is None:
            return
        i = skip_parens(words, i)
        if kind in ("OPERATOR CLASS", "OPERATOR FAMILY") and words[i:i + 1] == ("USING",):
            i += 2
        if i != len(words) - 3:
            return
        relation = kind in _RELATIONS
        yield self.hit(f"{kind.lower()} {name} now belongs to {stmt.tokens[-1].text}: no schema change; the old "
                       "owner's implicit privileges go", table=name if relation else None,
                       lock=Lock.ACCESS_EXCLUSIVE if relation else None)

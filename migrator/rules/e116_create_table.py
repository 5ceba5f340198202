from sqlglot import exp

from migrator.phases import Lock, Phase, Severity
from migrator.rules._base import Rule, table_key, table_name
from migrator.rules._objects import create_kind, name_list, skip_if_exists
from migrator.sql.words import dotted_name, find

_T = exp.DataType.Type
_SERIALS = {_T.SERIAL, _T.SMALLSERIAL, _T.BIGSERIAL}
_SMALL_INTS = {_T.INT, _T.SMALLINT}
_KEY_CONSTRAINTS = (exp.PrimaryKeyColumnConstraint, exp.GeneratedAsIdentityColumnConstraint)


class CreateTable(Rule):
    """Create table.

    ## What it does
    Finds `CREATE TABLE` (also `IF NOT EXISTS`, `AS SELECT`, `SELECT ... INTO`,
    `LIKE`, `INHERITS`, `PARTITION OF`): a new object (expand, info). It
    reports the locks the new table takes on existing ones: SHARE ROW
    EXCLUSIVE on tables its foreign keys reference, ACCESS EXCLUSIVE on the
    parent of `PARTITION OF` (plus a scan of the parent's default partition),
    SHARE UPDATE EXCLUSIVE on `INHERITS` parents. It also suggests robust
    column types. Temporary tables are only classified (phase `none`).

    ## Why is this bad?
    Creating a table is safe for blue. The locks are brief but queue behind
    long queries on the referenced tables, and block everything queued after
    them. Type choices are hard to change later on a big table: `integer`
    keys run out, `timestamp` without time zone loses the offset, `char(n)`
    pads (`json` columns are E107).

    ## Use instead
    Set `lock_timeout` before creating a table with foreign keys or a
    partition. Prefer `bigint GENERATED ... AS IDENTITY` keys (over `serial`
    and `integer`), `timestamptz` and `text`.
    """

    id, name, phase, severity = "E116", "create-table", Phase.EXPAND, Severity.INFO
    nodes = (exp.Create, exp.Select)
    commands = (("CREATE", "TABLE"), ("CREATE", "TEMP"), ("CREATE", "TEMPORARY"), ("CREATE", "UNLOGGED"),
                ("CREATE", "GLOBAL"), ("CREATE", "LOCAL"))
    fix = "SET lock_timeout first; prefer bigint identity keys, timestamptz and text"

    def check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.Select):
            into = node.args.get("into")
            if isinstance(into, exp.Into) and not node.find(exp.Anonymous):
                name = table_name(into.this)
                if into.args.get("temporary"):
                    yield self.hit(f"creates temporary table {name} from a query", table=name, phase=Phase.NONE,
                                   severity=None)
                else:
                    yield self.hit(f"creates table {name} from a query (SELECT ... INTO)", table=name, fix="")
            return
        if isinstance(node, exp.Create):
            if (node.args.get("kind") or "").upper() != "TABLE":
                return
            yield from self._typed(node, ctx)
        elif stmt.is_command:
            yield from self._tokens(stmt.words, ctx)

    def _typed(self, node, ctx):
        name = table_name(node.this)
        if not name:
            return
        props = node.args.get("properties")
        props = props.expressions if isinstance(props, exp.Properties) else []
        if any(isinstance(p, exp.TemporaryProperty) for p in props):
            yield self.hit(f"creates temporary table {name}", table=name, phase=Phase.NONE, severity=None)
            return
        referenced = [table_name(r.this) for r in node.find_all(exp.Reference)]
        parent = next((table_name(p.this) for p in props if isinstance(p, exp.PartitionedOfProperty)), None)
        inherits = [table_name(t) for p in props if isinstance(p, exp.InheritsProperty) for t in p.expressions]
        advice = _advice(node.this) if isinstance(node.this, exp.Schema) else []
        yield self._hit(name, referenced, parent, inherits, advice, ctx, query=node.args.get("expression") is not None)

    def _tokens(self, words, ctx):
        kind, i, modifiers = create_kind(words)
        if kind != "TABLE":
            return
        name, _ = dotted_name(words, skip_if_exists(words, i))
        if not name:
            return
        if modifiers & {"TEMP", "TEMPORARY"}:
            yield self.hit(f"creates temporary table {name}", table=name, phase=Phase.NONE, severity=None)
            return
        referenced = []
        at = find(words, "REFERENCES")
        while at >= 0:
            referenced.append(dotted_name(words, at + 1)[0])
            at = find(words, "REFERENCES", start=at + 1)
        at = find(words, "PARTITION", "OF")
        parent = dotted_name(words, at + 2)[0] if at >= 0 else None
        at = find(words, "INHERITS", "(")
        inherits = name_list(words, at + 2)[0] if at >= 0 else []
        yield self._hit(name, referenced, parent, inherits, [], ctx, query=find(words, "AS", "SELECT") >= 0)

    def _hit(self, name, referenced, parent, inherits, advice, ctx, query):
        own = table_key(name)
        existing = sorted({r for r in referenced if r and table_key(r) != own and not ctx.is_new_table(r)})
        parts = [f"creates table {name}" + (" from a query" if query else "")]
        lock, table = None, name
        if existing:
            lock, table = Lock.SHARE_ROW_EXCLUSIVE, existing[0]  # the lock is on the referenced table
            parts.append(f"its foreign keys lock {', '.join(existing)} SHARE ROW EXCLUSIVE (writes blocked) briefly")
        existing_parents = [p for p in inherits if p and not ctx.is_new_table(p)]
        if existing_parents:
            lock = max(lock or 0, Lock.SHARE_UPDATE_EXCLUSIVE)
            parts.append(f"locks parent {', '.join(existing_parents)} SHARE UPDATE EXCLUSIVE")
        if parent and not ctx.is_new_table(parent):
            lock, table = Lock.ACCESS_EXCLUSIVE, parent
            parts.append(f"as a partition it locks {parent} ACCESS EXCLUSIVE (all access blocked) and scans "
                         f"{parent}'s default partition, if any; ALTER TABLE ... ATTACH PARTITION locks less")
        if advice:
            parts.append("consider " + ", ".join(advice))
        lock = Lock(lock) if lock else None
        return self.hit("; ".join(parts), table=table, lock=lock,
                        fix=None if (lock or advice) else "")


def _advice(schema: exp.Schema) -> list[str]:
    tips = []
    for col in schema.expressions:
        if not isinstance(col, exp.ColumnDef) or not isinstance(col.args.get("kind"), exp.DataType):
            continue
        t = col.args["kind"].this
        kinds = [c.args.get("kind") for c in col.args.get("constraints") or []]
        if t in _SERIALS:
            tips.append(f"{col.name} bigint GENERATED ALWAYS AS IDENTITY (not serial)")
        elif t in _SMALL_INTS and any(isinstance(k, _KEY_CONSTRAINTS) for k in kinds):
            tips.append(f"{col.name} bigint")
        elif t == _T.TIMESTAMP:
            tips.append(f"{col.name} timestamptz")
        elif t in (_T.CHAR, _T.NCHAR, _T.BPCHAR):
            tips.append(f"{col.name} text")
    return tips
